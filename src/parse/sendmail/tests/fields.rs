use super::*;

#[test]
fn queue_id_prefix() {
    assert_eq!(
        split_qid("l65DnTLe028546: to=x"),
        (Some("l65DnTLe028546"), "to=x")
    );
    assert_eq!(
        split_qid("STARTTLS: read error=timeout"),
        (None, "STARTTLS: read error=timeout")
    );
    assert_eq!(split_qid("JAA12345[3]: x"), (Some("JAA12345[3]"), "x"));
    assert_eq!(split_qid("NOQUEUE: connect"), (None, "NOQUEUE: connect"));
}
