//! A Postfix `main.cf` whose references nest nine deep, the input that once made the
//! expansion build gigabytes or loop (tests/it/fuzz_regressions.rs; benches/timing.rs
//! times its refusal).

/// The cases: references per level, and the value at the bottom (empty names looped).
pub const NESTED: [(usize, &str); 3] = [(16, "0123456789abcdef"), (64, ""), (1000, "")];

/// `v0 = $v1$v1…` (`fan_out` references a level) down to `v9 = BOTTOM`.
pub fn nested_main_cf(fan_out: usize, bottom: &str) -> String {
    let mut text = String::new();
    for level in 0..9u8 {
        let next = format!("$v{}", level + 1);
        text.push_str(&format!("v{level} = {}\n", next.repeat(fan_out)));
    }
    text.push_str(&format!("v9 = {bottom}\n"));
    text
}
