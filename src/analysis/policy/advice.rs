//! What an error kind usually means and what to do about it, in the terms of the MTA that
//! logged it.
//!
//! A postmaster fixes a Postfix key in `main.cf` and runs `postfix reload`; telling them
//! about `confSERVER_KEY` and "restart sendmail" is wrong advice. So the advice is chosen
//! by the kind *and* the MTA of the record ([`advice`]). The MTAs also differ in what a
//! broken key does: Sendmail stops offering STARTTLS; Postfix and Exim still offer it and
//! answer `454` to it. Either way clients that do not insist go on in clear text.

use crate::model::{Direction, Mta, TlsErrorKind};

/// The usual cause and fix of one kind of error on one MTA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub cause: &'static str,
    pub fix: &'static str,
}

/// The MTA's name as its administrators write it.
pub fn mta_name(mta: Mta) -> &'static str {
    match mta {
        Mta::Sendmail => "Sendmail",
        Mta::Postfix => "Postfix",
        Mta::Exim => "Exim",
    }
}

/// The advice for `kind` as logged by `mta`.
pub fn advice(kind: TlsErrorKind, mta: Mta) -> Advice {
    advice_on(kind, mta, None)
}

/// True for the kinds whose cause and fix depend on the side: a failed handshake on our
/// server side (clients, scanners among them, that could not or would not finish it) asks
/// for other settings than one on our client side (mail to the peer falls back or waits);
/// a refusal by our policy on the server side (a client without the certificate or the
/// STARTTLS we require: Sendmail `ruleset=tls_client`, the real `client_cert_required`
/// captures) holds the client's mail in *its* queue, not ours.
pub fn depends_on_side(kind: TlsErrorKind) -> bool {
    matches!(
        kind,
        TlsErrorKind::Handshake
            | TlsErrorKind::Policy
            | TlsErrorKind::CertVerify
            | TlsErrorKind::NotOffered
    )
}

/// The advice for `kind` as logged by `mta` on one side: `Some(Inbound)` for our server
/// side, `Some(Outbound)` for our client side, `None` when unknown (the client side's
/// words, which are about the mail that waits).
pub fn advice_on(kind: TlsErrorKind, mta: Mta, side: Option<Direction>) -> Advice {
    let (cause, fix) = match (mta, side) {
        (_, Some(Direction::Inbound)) if kind == TlsErrorKind::Handshake => inbound_handshake(mta),
        (_, Some(Direction::Inbound)) if depends_on_side(kind) => inbound_refusal(mta),
        (Mta::Sendmail, _) => sendmail(kind),
        (Mta::Postfix, _) => postfix(kind),
        (Mta::Exim, _) => exim(kind),
    };
    Advice { cause, fix }
}

/// Failed handshakes of clients with our server: nothing to change for scanners and
/// probes (they make most of them); for a real sender, our protocols and ciphers, or no
/// STARTTLS offered to that one client, so that its mail comes in (in clear text).
fn inbound_handshake(mta: Mta) -> (&'static str, &'static str) {
    match mta {
        Mta::Sendmail => (
            "Clients' handshakes with our server failed (STARTTLS=server, accept failed): a \
             client with no protocol or cipher in common with us (an old one, or our \
             CipherList / ServerSSLOptions too strict), one that hung up in the handshake \
             or went silent in it until our timeout (scanners and probes do), or a reset.",
            "Nothing to change for scanners and probes. For a real sender that fails, compare \
             its protocols and ciphers with ours (mailtls check OURHOST:25); relax CipherList \
             or ServerSSLOptions in sendmail.mc only as policy permits, or stop offering \
             STARTTLS to that one client with an access map entry Srv_Features:IP S (makemap \
             hash /etc/mail/access < /etc/mail/access) so that its mail comes in, in clear \
             text.",
        ),
        Mta::Postfix => (
            "Clients' handshakes with our smtpd failed (SSL_accept error, starttls=0/1): a \
             client with no protocol or cipher in common with us (an old one, or \
             smtpd_tls_protocols / smtpd_tls_ciphers too strict), one that hung up in the \
             handshake or went silent in it until our timeout (scanners and probes do), or a \
             reset.",
            "Nothing to change for scanners and probes. For a real sender that fails, compare \
             its protocols and ciphers with ours (mailtls check OURHOST:25); relax \
             smtpd_tls_protocols or smtpd_tls_ciphers only as policy permits, or stop \
             offering STARTTLS to that one client (smtpd_discard_ehlo_keyword_address_maps, \
             its address with the keyword starttls) so that its mail comes in, in clear \
             text; then postfix reload.",
        ),
        Mta::Exim => (
            "Clients' handshakes with our Exim server failed (TLS error on connection from \
             …): a client with no protocol or cipher in common with us (an old one, or \
             tls_require_ciphers too strict), one that hung up in the handshake or went \
             silent in it until our timeout (scanners and probes do), or a reset.",
            "Nothing to change for scanners and probes. For a real sender that fails, compare \
             its protocols and ciphers with ours (mailtls check OURHOST:25); relax \
             tls_require_ciphers only as policy permits, or stop advertising STARTTLS to that \
             one client (tls_advertise_hosts = ! IP : *) so that its mail comes in, in clear \
             text; then update-exim4.conf and restart exim4.",
        ),
    }
}

/// Clients our server refused because our policy requires more TLS of them than they
/// brought (a verified certificate, STARTTLS at all): their mail waits in their queues.
fn inbound_refusal(mta: Mta) -> (&'static str, &'static str) {
    match mta {
        Mta::Sendmail => (
            "Our TLS policy for clients (an access map TLS_Clt entry, the tls_client \
             ruleset) refused a client at MAIL (`ruleset=tls_client, arg1=…, reject=4xx`): \
             it presented no certificate (arg1=NO), one that did not verify (FAIL), or did \
             not use STARTTLS (NONE) where TLS_Clt requires VERIFY or ENCR. Nothing of its \
             mail came in; it waits in the client's queue and is retried.",
            "For a client you expect mail from, ask it for a client certificate that \
             confCACERT / confCACERT_PATH can verify, or relax its TLS_Clt entry in the \
             access map consciously (makemap hash /etc/mail/access < /etc/mail/access) and \
             record an exception.",
        ),
        Mta::Postfix => (
            "Our smtpd requires more TLS of clients than this one brought \
             (smtpd_tls_security_level = encrypt: `Must issue a STARTTLS command first`; \
             smtpd_tls_req_ccert = yes: no client certificate, or one that did not verify). \
             Nothing of its mail came in; it waits in the client's queue and is retried.",
            "For a client you expect mail from, ask it for a client certificate that \
             smtpd_tls_CAfile can verify, or relax smtpd_tls_req_ccert / \
             smtpd_tls_security_level for it (a separate smtpd in master.cf with -o \
             overrides) consciously, then postfix reload.",
        ),
        Mta::Exim => (
            "Our Exim requires a verified client certificate of this client \
             (tls_verify_hosts) or encryption in an ACL (encrypted = *), and the client did \
             not bring it: the handshake or the transaction was refused, and what the \
             client did not then send in clear waits in the client's queue.",
            "For a client you expect mail from, ask it for a client certificate that \
             tls_verify_certificates can verify, or move it to tls_try_verify_hosts (or out \
             of the ACL's encrypted condition) consciously, then update-exim4.conf and \
             restart exim4.",
        ),
    }
}

/// The advice for a host of ours that did no TLS at all in a role
/// ([`crate::analysis::host_tls`]): nothing was logged, so the cause is a setting that
/// keeps STARTTLS from being offered (inbound) or tried (outbound), named in `mta`'s terms.
pub fn no_tls(mta: Mta, direction: Direction) -> Advice {
    let (cause, fix) = match (mta, direction) {
        (Mta::Sendmail, Direction::Inbound) => (
            "Sendmail offers STARTTLS only when its server certificate and key are set: Debian's \
             sendmail enables no STARTTLS until confSERVER_CERT and confSERVER_KEY (with \
             confCACERT_PATH and confCACERT) are in sendmail.mc, and a daemon whose \
             DAEMON_OPTIONS carry M=S never offers it. The EHLO reply then has no STARTTLS, \
             every client sends in clear text, and nothing is logged.",
            "Set confSERVER_CERT, confSERVER_KEY, confCACERT_PATH and confCACERT in \
             sendmail.mc (mailtls config sendmail prints them), rebuild sendmail.cf (make -C \
             /etc/mail) and restart sendmail; mailtls check HOST:25 shows STARTTLS offered.",
        ),
        (Mta::Sendmail, Direction::Outbound) => (
            "Sendmail's client used STARTTLS with no server: its TLS side is not set up \
             (no confCACERT_PATH/confCACERT or confCLIENT_CERT/confCLIENT_KEY in \
             sendmail.mc), or the access map turns it off (Try_TLS:… NO), or the next hops \
             offered none.",
            "Set confCACERT_PATH, confCACERT, confCLIENT_CERT and confCLIENT_KEY in \
             sendmail.mc, rebuild sendmail.cf and restart sendmail; look for Try_TLS entries \
             in /etc/mail/access; mailtls check NEXTHOP shows whether a next hop offers \
             STARTTLS.",
        ),
        (Mta::Postfix, Direction::Inbound) => (
            "Postfix smtpd offers STARTTLS only with smtpd_tls_security_level = may (or \
             encrypt) and a certificate (smtpd_tls_chain_files, or smtpd_tls_cert_file and \
             smtpd_tls_key_file): the default level is none, and a master.cf service with \
             -o smtpd_tls_security_level=none turns it off for its port. Nothing is logged.",
            "Set smtpd_tls_security_level = may and smtpd_tls_chain_files (or \
             smtpd_tls_cert_file and smtpd_tls_key_file) in main.cf, check master.cf for -o \
             overrides, then postfix reload; mailtls check HOST:25 shows STARTTLS offered.",
        ),
        (Mta::Postfix, Direction::Outbound) => (
            "Postfix smtp uses STARTTLS only with smtp_tls_security_level = may or higher: \
             the default is none (Debian's main.cf sets may), and an smtp_tls_policy_maps \
             entry or a master.cf -o override with none turns it off.",
            "Set smtp_tls_security_level = may in main.cf, check smtp_tls_policy_maps and \
             master.cf for overrides, then postfix reload.",
        ),
        (Mta::Exim, Direction::Inbound) => (
            "Exim advertises STARTTLS to the clients in tls_advertise_hosts; Exim 4.96's own \
             default is * (with a self-signed certificate made at run time when \
             tls_certificate is unset), so an Exim that offers none has tls_advertise_hosts \
             emptied or not matching its clients (Debian: MAIN_TLS_ADVERTISE_HOSTS, or a \
             tls_advertise_hosts line of its own), or was built without TLS.",
            "Set MAIN_TLS_ENABLE = yes with MAIN_TLS_CERTIFICATE and MAIN_TLS_PRIVATEKEY \
             (Debian; MAIN_TLS_ADVERTISE_HOSTS unset or *), or tls_advertise_hosts = * with \
             tls_certificate and tls_privatekey; run update-exim4.conf and restart exim4; \
             mailtls check HOST:25 shows STARTTLS offered.",
        ),
        (Mta::Exim, Direction::Outbound) => (
            "Exim's smtp transport tries STARTTLS whenever the server offers it, unless \
             hosts_avoid_tls matches the server (Debian: REMOTE_SMTP_HOSTS_AVOID_TLS) or the \
             next hops offered none.",
            "Look for hosts_avoid_tls in the smtp transports and unset it; mailtls check \
             NEXTHOP shows whether a next hop offers STARTTLS.",
        ),
    };
    Advice { cause, fix }
}

/// Kinds whose cause and fix read the same whatever MTA logged them.
fn any_mta(kind: TlsErrorKind) -> (&'static str, &'static str) {
    if kind == TlsErrorKind::Shutdown {
        (
            "The TLS session did not close cleanly.",
            "Usually harmless; worth a look only when it comes with lost messages.",
        )
    } else {
        (
            "A TLS problem the log did not classify further.",
            "Read the example line; mailtls check HOST reproduces most peer-side problems.",
        )
    }
}

fn sendmail(kind: TlsErrorKind) -> (&'static str, &'static str) {
    use TlsErrorKind as K;
    match kind {
        K::PrivateKey => (
            "Sendmail could not load its private key (ServerKeyFile for STARTTLS=server, \
             ClientKeyFile for STARTTLS=client): usually the key is encrypted (made without \
             -nodes, so it needs a pass phrase nobody types), the path in \
             confSERVER_KEY/confCLIENT_KEY is wrong, or key and certificate do not match. \
             Sendmail keeps running; its server (STARTTLS=server) stops offering STARTTLS and \
             accepts mail in clear text; its client (STARTTLS=client) goes on with STARTTLS \
             but presents no client certificate.",
            "Re-create the key without a pass phrase (openssl pkey -in key.pem -out key.pem, \
             or openssl req -new -x509 -nodes …), check confSERVER_KEY/confCLIENT_KEY (O \
             ServerKeyFile/ClientKeyFile in sendmail.cf) and that the key matches the \
             certificate, chmod 600 the key, and restart sendmail; then check that EHLO \
             shows 250-STARTTLS (mailtls check HOST).",
        ),
        K::Certificate => (
            "Sendmail could not load its certificate (ServerCertFile/ClientCertFile: missing, \
             wrong path, not PEM, wrong chain order). Its server offers no STARTTLS until it \
             loads; its client goes on with STARTTLS but presents no client certificate.",
            "Check confSERVER_CERT/confCLIENT_CERT (O ServerCertFile/ClientCertFile in \
             sendmail.cf), that the file is PEM with the leaf first, and restart sendmail.",
        ),
        K::CaLocations => (
            "The CA file or directory (confCACERT, confCACERT_PATH) could not be read, so \
             Sendmail cannot verify peer certificates and may not start TLS.",
            "Point confCACERT_PATH (O CACertPath) at a directory with <hash>.0 links (c_rehash \
             or openssl rehash) and confCACERT (O CACertFile) at a readable PEM file; restart \
             sendmail.",
        ),
        K::UnsafeFile => (
            "Sendmail refuses key or certificate files that are group- or world-readable or \
             in unsafe directories: without its server files (STARTTLS=server) it offers no \
             STARTTLS; its client (STARTTLS=client) goes on with STARTTLS but presents no \
             client certificate, which a peer that requires one refuses.",
            "chmod 600 the key (640 with group smmsp only when the MSP needs it), chmod go-w \
             the directories, restart sendmail; relax with DontBlameSendmail only as a last \
             resort.",
        ),
        K::MissingFile => (
            "A file Sendmail is configured to use (ServerCertFile/ServerKeyFile, \
             ClientCertFile/ClientKeyFile, CACertFile) does not exist: `file … unsafe: No such \
             file or directory` is a wrong path or a file never installed, not a permissions \
             problem. Without its server files (STARTTLS=server) Sendmail offers no STARTTLS; \
             its client (STARTTLS=client) goes on with STARTTLS but presents no certificate \
             (ClientCertFile/ClientKeyFile), which a peer that requires one refuses, or \
             verifies none (CACertFile).",
            "Correct the path in confSERVER_CERT/confSERVER_KEY/confCLIENT_CERT/confCLIENT_KEY/\
             confCACERT (O ServerCertFile … in sendmail.cf) or install the file, rebuild \
             sendmail.cf and restart sendmail.",
        ),
        K::CipherConfig => (
            "The cipher list, cipher suites or DH parameters were rejected by OpenSSL, so \
             Sendmail set up no TLS for that role.",
            "Fix O CipherList / O ServerSSLOptions / confDH_PARAMETERS in the .mc file \
             (openssl ciphers -v 'LIST' shows what a list means), rebuild sendmail.cf and \
             restart sendmail.",
        ),
        K::DhParams => (
            "Sendmail could not read its DH parameters (confDH_PARAMETERS, O DHParameters) and \
             uses its built-in ones: STARTTLS still works.",
            "Point confDH_PARAMETERS at a readable PEM file (openssl dhparam -out dh.pem \
             2048) or drop it, then rebuild sendmail.cf and restart sendmail.",
        ),
        K::CipherIgnored => (
            "OpenSSL accepted none of the ciphers in O CipherList (confCIPHER_LIST) or O \
             CipherSuites, so Sendmail ignored the setting (`failed, list ignored`) and goes \
             on with OpenSSL's default ciphers: STARTTLS still works, but not with the \
             ciphers you chose.",
            "Fix confCIPHER_LIST / O CipherSuites in the .mc file (openssl ciphers -v 'LIST' \
             shows what a list means; TLS 1.3 suites go in CipherSuites), rebuild sendmail.cf \
             and restart sendmail.",
        ),
        K::Init => (
            "Sendmail could not initialise OpenSSL (random source, library mismatch).",
            "Check /dev/urandom (O RandFile), the OpenSSL version sendmail was built against \
             (sendmail -d0.1 -bv root), and the start-up log; restart sendmail.",
        ),
        K::Handshake => (
            "Our client's handshake with the peer's server failed (STARTTLS=client, connect \
             failed): no protocol or cipher in common (an old server, or our settings too \
             strict), a TLS stack broken on its side, or a reset. Sendmail then delivers in \
             clear text, unless the access map requires TLS for the peer (TLS_Srv).",
            "Check the peer with mailtls check HOST; allow its protocol only if policy \
             permits, or add an access map entry (Try_TLS:host NO to skip STARTTLS to it, \
             TLS_Srv:host to require it) so mail is not held.",
        ),
        K::Io => (
            "A read or write on an established TLS session failed or timed out.",
            "Usually the network or the peer; look for a pattern per peer and time.",
        ),
        K::CertVerify => (
            "A peer certificate failed verification (verify=FAIL: unknown CA, self-signed, \
             expired, name mismatch); where the access map requires VERIFY for the peer \
             (TLS_Srv/TLS_Rcpt), mail to it is held in the queue.",
            "Add the issuing CA to confCACERT_PATH (with its <hash>.0 link) if it is \
             legitimate, or tell the peer; or relax its TLS_Srv entry (VERIFY to ENCR:128) \
             consciously (makemap hash access < access) and record an exception.",
        ),
        K::CertificateRejected => (
            "The peer rejected our certificate (it sent an alert: bad certificate, unknown CA, \
             expired): our ServerCertFile/ClientCertFile chain is incomplete, expired, \
             self-signed or names another host.",
            "Check our chain with mailtls check OURHOST; renew the certificate or put the \
             intermediates into confSERVER_CERT/confCLIENT_CERT (leaf first), then restart \
             sendmail.",
        ),
        K::Policy => (
            "Our TLS policy (access map TLS_Srv/TLS_Rcpt, the tls_server ruleset) rejected \
             the session: the peer did not offer STARTTLS, or did not meet VERIFY/ENCR.",
            "Mail to this peer is held in the queue: ask the peer to fix TLS, or relax its \
             TLS_Srv/TLS_Rcpt entry in the access map consciously (makemap hash access < \
             access) and record an exception.",
        ),
        K::Library => (
            "A raw OpenSSL error; the line before it usually names the operation.",
            "Read the OpenSSL reason in the text (e.g. unsupported protocol, no shared \
             cipher) and treat it like a handshake failure.",
        ),
        K::NotOffered => (
            "Our access map requires TLS for this peer (TLS_Srv/TLS_Rcpt) but it did not \
             offer STARTTLS: mail to it is deferred.",
            "Ask the peer to enable STARTTLS, or remove its TLS_Srv/TLS_Rcpt requirement \
             from the access map.",
        ),
        K::Dane => (
            "DANE/TLSA verification failed or could not be done.",
            "Check the peer's TLSA records and that our resolver validates DNSSEC (Sendmail \
             8.15+ with O DANE=true).",
        ),
        K::Shutdown | K::Other => any_mta(kind),
    }
}

fn postfix(kind: TlsErrorKind) -> (&'static str, &'static str) {
    use TlsErrorKind as K;
    match kind {
        K::PrivateKey => (
            "Postfix could not load its private key (smtpd_tls_chain_files or \
             smtpd_tls_key_file for smtpd, smtp_tls_chain_files or smtp_tls_key_file for \
             smtp): usually an encrypted key, a wrong path, or a key that does not match the \
             certificate. Postfix still offers STARTTLS but answers 454 4.7.0 TLS not \
             available due to local problem, so clients that do not insist send in clear \
             text.",
            "Decrypt the key (openssl pkey -in key.pem -out key.pem), check the files with \
             postconf smtpd_tls_chain_files smtpd_tls_cert_file smtpd_tls_key_file (smtp_tls_* \
             for the client side) and that key and certificate match, chmod 600 the key, then \
             postfix reload; mailtls check HOST must show the handshake complete.",
        ),
        K::Certificate => (
            "Postfix could not load its certificate (smtpd_tls_chain_files / \
             smtpd_tls_cert_file, or smtp_tls_* for the client side): missing, not PEM, or \
             the chain out of order. smtpd still offers STARTTLS and answers 454.",
            "Fix smtpd_tls_chain_files (key then leaf then intermediates in one PEM file) or \
             smtpd_tls_cert_file, then postfix reload.",
        ),
        K::CaLocations => (
            "The CA file or directory (smtpd_tls_CAfile/smtpd_tls_CApath, \
             smtp_tls_CAfile/smtp_tls_CApath) could not be read, so peer certificates cannot \
             be verified.",
            "Point smtp_tls_CAfile at a readable bundle (or smtp_tls_CApath at a rehashed \
             directory), then postfix reload.",
        ),
        K::UnsafeFile => (
            "Postfix could not read a key or certificate file (permissions or ownership).",
            "Make the key owned by root and chmod 600 (Postfix reads it before dropping \
             privileges), then postfix reload.",
        ),
        K::MissingFile => (
            "A file Postfix is configured to use (smtpd_tls_chain_files, smtpd_tls_cert_file, \
             smtpd_tls_key_file, smtpd_tls_CAfile/smtpd_tls_CApath — `cannot load \
             Certification Authority data` — or smtp_tls_*) does not exist: a wrong path or a \
             file never installed. smtpd still offers STARTTLS and answers 454; smtp (our \
             client side: smtp_tls_cert_file, smtp_tls_key_file) delivers in clear text, or \
             defers where the policy requires TLS.",
            "Correct the path (postconf -n | grep tls) or install the file, then postfix \
             reload.",
        ),
        K::CipherConfig => (
            "OpenSSL rejected Postfix's cipher or protocol settings (`error setting cipher \
             grade`: smtpd_tls_ciphers or smtp_tls_ciphers and the tls_<grade>_cipherlist \
             it names; smtpd_tls_mandatory_ciphers, smtpd_tls_protocols), so every STARTTLS \
             of smtpd (or smtp) fails after its 220 reply and clients that do not insist \
             send in clear text.",
            "Fix the setting shown in the line (postconf -n | grep tls; openssl ciphers -v \
             'LIST' shows what a list means), then postfix reload.",
        ),
        K::CipherIgnored => (
            "OpenSSL accepted none of a cipher list and the MTA went on with OpenSSL's \
             defaults: STARTTLS still works, but not with the ciphers configured.",
            "Fix smtpd_tls_ciphers / smtp_tls_ciphers and the tls_<grade>_cipherlist they \
             name (postconf -n | grep cipher), then postfix reload.",
        ),
        K::DhParams => (
            "smtpd could not load its DH parameter file (smtpd_tls_dh1024_param_file: `error \
             opening DH parameter file … -- using compiled-in defaults`) and uses Postfix's \
             built-in parameters: STARTTLS still works.",
            "Point smtpd_tls_dh1024_param_file at a readable file (openssl dhparam -out \
             dh2048.pem 2048) or remove the setting (postconf -X \
             smtpd_tls_dh1024_param_file), then postfix reload.",
        ),
        K::Init => (
            "Postfix could not initialise OpenSSL (tls_random_source, a chroot without \
             /dev/urandom, library mismatch).",
            "Check tls_random_source and the chroot column in master.cf, then postfix reload.",
        ),
        K::Handshake => (
            "Our smtp client's handshake with the peer failed (SSL_connect error, TLS library \
             problem): no protocol or cipher in common (an old server, or smtp_tls_protocols \
             / smtp_tls_ciphers too strict), a TLS stack broken on its side, or a reset. \
             Postfix defers the mail (4.7.5 Cannot start TLS: handshake failure) and tries \
             again later.",
            "Check the peer with mailtls check HOST. For an old server, allow its protocols \
             or ciphers for it alone in smtp_tls_policy_maps ([host]:25 may protocols=… \
             ciphers=…) rather than loosening smtp_tls_protocols for everyone; for a broken \
             one, [host]:25 none sends to it in clear text (consciously, as a recorded \
             exception); postmap the map, then postfix reload.",
        ),
        K::Io => (
            "A read or write on an established TLS session failed or timed out.",
            "Usually the network or the peer; look for a pattern per peer and time.",
        ),
        K::CertVerify => (
            "A peer certificate failed verification (unknown CA, expired, name mismatch).",
            "Add the issuing CA to smtp_tls_CAfile if it is legitimate, or set the peer's \
             smtp_tls_policy_maps entry to encrypt instead of verify/secure.",
        ),
        K::CertificateRejected => (
            "The peer rejected our certificate (tlsv1 alert bad certificate / unknown ca): our \
             chain in smtpd_tls_chain_files (or smtp_tls_chain_files for client certificates) \
             is incomplete, expired, self-signed or names another host.",
            "Check our chain with mailtls check OURHOST; renew it or add the intermediates to \
             smtpd_tls_chain_files (key, leaf, intermediates), then postfix reload.",
        ),
        K::Policy => (
            "Our TLS policy (smtp_tls_security_level, smtp_tls_policy_maps, \
             smtpd_tls_security_level) refused the session.",
            "Mail is held in the queue: ask the peer to fix TLS, or relax its entry in \
             smtp_tls_policy_maps consciously (postmap, postfix reload) and record an \
             exception.",
        ),
        K::Library => (
            "A raw OpenSSL error logged by smtpd or smtp; it is the reason of the failure \
             logged next to it.",
            "Read the OpenSSL reason in the text (e.g. unsupported protocol, no shared \
             cipher) and treat it like a handshake failure.",
        ),
        K::NotOffered => (
            "smtp_tls_security_level (or the peer's smtp_tls_policy_maps entry) requires TLS \
             but the peer did not offer STARTTLS: mail to it is deferred.",
            "Ask the peer to enable STARTTLS, or lower its smtp_tls_policy_maps entry to may \
             (postmap, postfix reload).",
        ),
        K::Dane => (
            "DANE/TLSA verification failed or could not be done.",
            "Check the peer's TLSA records and that smtp_dns_support_level = dnssec has a \
             validating resolver.",
        ),
        K::Shutdown | K::Other => any_mta(kind),
    }
}

fn exim(kind: TlsErrorKind) -> (&'static str, &'static str) {
    use TlsErrorKind as K;
    match kind {
        K::PrivateKey => (
            "Exim could not set up its certificate and key (`cert/key setup: cert=… key=…`, \
             tls_certificate and tls_privatekey): `Decryption has failed` is an encrypted \
             key, `Error while reading file` a certificate or key that is missing or not \
             readable by the Debian-exim user (GnuTLS does not say which of the two), `do \
             not match` a key of another certificate. On our server side (`TLS error on \
             connection from …`) Exim still offers STARTTLS and answers 454, so clients that \
             do not insist send in clear text; on our client side (`TLS session: (cert/key \
             setup …): … delivering unencrypted`, the smtp transport's tls_certificate and \
             tls_privatekey) our mail goes out in clear text, or waits where \
             hosts_require_tls names the host.",
            "Check that both files the line names exist, decrypt the key (openssl pkey -in \
             key.pem -out key.pem), point tls_certificate/tls_privatekey (main section or \
             smtp transport, as the line's files say) at a matching pair, \
             make them readable by Debian-exim (chgrp Debian-exim key.pem; chmod 640 \
             key.pem), then update-exim4.conf and restart exim4 (systemctl restart exim4 or \
             /etc/init.d/exim4 restart).",
        ),
        K::Certificate => (
            "Exim could not load its certificate (tls_certificate): missing, not PEM, or not \
             readable by Debian-exim. Exim still offers STARTTLS and answers 454.",
            "Fix tls_certificate (leaf first, then intermediates), make it readable by \
             Debian-exim, then restart exim4.",
        ),
        K::CaLocations => (
            "The CA bundle (tls_verify_certificates) could not be read, so peer \
             certificates cannot be verified.",
            "Set tls_verify_certificates (main section, and on the smtp transport) to a \
             readable bundle or system, then restart exim4.",
        ),
        K::UnsafeFile => (
            "Exim (running as Debian-exim) could not read a key or certificate file.",
            "chgrp Debian-exim the key and chmod 640 it (the directory must be searchable), \
             then restart exim4.",
        ),
        K::MissingFile => (
            "A file Exim is configured to use (tls_certificate, tls_privatekey, \
             tls_verify_certificates) does not exist: a wrong path or a file never installed. \
             Exim still offers STARTTLS and answers 454.",
            "Correct the path in the Exim configuration (update-exim4.conf on Debian) or \
             install the file readable by Debian-exim, then restart exim4.",
        ),
        K::CipherConfig => (
            "GnuTLS rejected Exim's priority string or DH settings (tls_require_ciphers, \
             tls_dhparam; `failed to rename … as \"FILE\"`: a tls_dhparam file that does not \
             exist, which Exim then tries to create and cannot). Exim still offers STARTTLS \
             and answers 454.",
            "Fix tls_require_ciphers (a GnuTLS priority string, gnutls-cli --priority … -l \
             shows it) or tls_dhparam, then restart exim4.",
        ),
        K::CipherIgnored => (
            "A cipher setting was refused and the defaults used: STARTTLS still works, but \
             not with the ciphers configured.",
            "Fix tls_require_ciphers (a GnuTLS priority string: gnutls-cli --priority … -l \
             shows it), then update-exim4.conf and restart exim4.",
        ),
        K::DhParams => (
            "Exim could not load its DH parameters (tls_dhparam).",
            "Point tls_dhparam at a readable file, or set it to none or a named group, then \
             restart exim4.",
        ),
        K::Init => (
            "Exim could not set up TLS for a connection (`TLS error on connection from … \
             NULL`: the reason is the line it logged just before, or in the paniclog), or \
             could not initialise GnuTLS. It answers 454 to STARTTLS, so clients that do \
             not insist send in clear text.",
            "Read the line before it and /var/log/exim4/paniclog, fix the file or setting it \
             names, then update-exim4.conf and restart exim4.",
        ),
        K::Handshake => (
            "Our Exim client's handshake with the peer failed: no protocol or cipher in \
             common (an old server, or tls_require_ciphers too strict), a TLS stack broken on \
             its side, or a reset. Exim then delivers in clear text, unless hosts_require_tls \
             covers the peer.",
            "Check the peer with mailtls check HOST; for one legacy peer use hosts_avoid_tls \
             (or a tls_require_ciphers on its own transport) rather than loosening \
             everyone, then restart exim4.",
        ),
        K::Io => (
            "A read or write on an established TLS session failed or timed out.",
            "Usually the network or the peer; look for a pattern per peer and time.",
        ),
        K::CertVerify => (
            "A peer certificate failed verification (unknown CA, expired, name mismatch).",
            "Add the issuing CA to tls_verify_certificates if it is legitimate, or take the \
             peer out of tls_verify_hosts / hosts_require_tls consciously.",
        ),
        K::CertificateRejected => (
            "The peer rejected our certificate (GnuTLS: A TLS fatal alert has been received: \
             Certificate is bad): the chain in tls_certificate is incomplete, expired, \
             self-signed or names another host.",
            "Check our chain with mailtls check OURHOST; renew it or append the intermediates \
             to tls_certificate (leaf first), then restart exim4.",
        ),
        K::Policy => (
            "Our TLS policy (hosts_require_tls, tls_verify_hosts, hosts_require_dane) refused \
             the session.",
            "Mail is held in the queue: ask the peer to fix TLS, or relax the list it is in \
             consciously and record an exception.",
        ),
        K::Library => (
            "A raw GnuTLS error; the line usually names the operation.",
            "Read the GnuTLS reason in the text and treat it like a handshake failure.",
        ),
        K::NotOffered => (
            "hosts_require_tls requires TLS for this peer but it did not offer STARTTLS: \
             mail to it is deferred.",
            "Ask the peer to enable STARTTLS, or take it out of hosts_require_tls.",
        ),
        K::Dane => (
            "DANE/TLSA verification failed or could not be done.",
            "Check the peer's TLSA records, hosts_try_dane/hosts_require_dane and that the \
             resolver validates DNSSEC (dns_dnssec_ok).",
        ),
        K::Shutdown | K::Other => any_mta(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind on every MTA names that MTA's own settings and reload, never another's.
    #[test]
    fn advice_speaks_the_mta_s_own_terms() {
        let kinds = TlsErrorKind::ALL;
        let foreign: [(Mta, &[&str]); 3] = [
            (
                Mta::Sendmail,
                &[
                    "postfix",
                    "smtpd_",
                    "smtp_tls",
                    "exim",
                    "Debian-exim",
                    "tls_privatekey",
                ],
            ),
            (
                Mta::Postfix,
                &[
                    "sendmail",
                    "confSERVER",
                    "confCLIENT",
                    "confCACERT",
                    "TLS_Srv",
                    "Try_TLS",
                    "exim",
                    "tls_privatekey",
                ],
            ),
            (
                Mta::Exim,
                &[
                    "sendmail",
                    "confSERVER",
                    "confCLIENT",
                    "confCACERT",
                    "TLS_Srv",
                    "postfix",
                    "smtpd_",
                    "smtp_tls",
                ],
            ),
        ];
        for (mta, bad) in foreign {
            for k in kinds {
                for side in [None, Some(Direction::Inbound), Some(Direction::Outbound)] {
                    let a = advice_on(k, mta, side);
                    for b in bad {
                        assert!(
                            !a.cause.contains(b) && !a.fix.contains(b),
                            "{mta:?} {k} {side:?}: mentions {b}: {a:?}"
                        );
                    }
                }
            }
        }
        // A failed handshake is advised on per side: our server's settings (and nothing to
        // do for scanners) inbound, the peer's entry in our client's settings outbound.
        for (m, server, client) in [
            (Mta::Sendmail, "Srv_Features", "Try_TLS"),
            (
                Mta::Postfix,
                "smtpd_discard_ehlo_keyword_address_maps",
                "smtp_tls_policy_maps",
            ),
            (Mta::Exim, "tls_advertise_hosts", "hosts_avoid_tls"),
        ] {
            let h = |side| advice_on(TlsErrorKind::Handshake, m, Some(side));
            let (inb, out) = (h(Direction::Inbound), h(Direction::Outbound));
            assert!(
                inb.fix.contains(server) && !inb.fix.contains(client),
                "{m:?}: {inb:?}"
            );
            assert!(inb.fix.contains("Nothing to change for scanners"), "{m:?}");
            assert!(
                out.fix.contains(client) && !out.fix.contains(server),
                "{m:?}: {out:?}"
            );
            assert_eq!(advice(TlsErrorKind::Handshake, m), out, "{m:?}");
        }
        // A refusal by our policy is advised on per side: inbound, the client's mail waits
        // in its own queue and the fix is our requirement of clients (the real
        // `client_cert_required` captures); outbound, our mail waits and the fix is the
        // peer's entry in our client's policy.
        for (m, server, client) in [
            (Mta::Sendmail, "TLS_Clt", "TLS_Srv"),
            (Mta::Postfix, "smtpd_tls_req_ccert", "smtp_tls_policy_maps"),
            (Mta::Exim, "tls_verify_hosts", "hosts_require_tls"),
        ] {
            for k in [
                TlsErrorKind::Policy,
                TlsErrorKind::CertVerify,
                TlsErrorKind::NotOffered,
            ] {
                let inb = advice_on(k, m, Some(Direction::Inbound));
                let text = format!("{} {}", inb.cause, inb.fix);
                assert!(
                    text.contains(server) && !text.contains(client),
                    "{m:?} {k}: {inb:?}"
                );
                assert!(text.contains("client's queue"), "{m:?} {k}: {inb:?}");
                assert_eq!(advice_on(k, m, Some(Direction::Outbound)), advice(k, m));
            }
        }
        // The key advice names the file setting and the reload of its own MTA.
        let key = |m| advice(TlsErrorKind::PrivateKey, m);
        assert!(key(Mta::Sendmail).fix.contains("confSERVER_KEY"));
        assert!(key(Mta::Sendmail).fix.contains("restart sendmail"));
        assert!(key(Mta::Postfix).fix.contains("smtpd_tls_chain_files"));
        assert!(key(Mta::Postfix).fix.contains("postfix reload"));
        assert!(key(Mta::Exim).fix.contains("tls_privatekey"));
        assert!(key(Mta::Exim).fix.contains("Debian-exim"));
        assert!(key(Mta::Exim).fix.contains("restart exim4"));
        // A missing file is a path to correct, not a chmod.
        for m in [Mta::Sendmail, Mta::Postfix, Mta::Exim] {
            let a = advice(TlsErrorKind::MissingFile, m);
            assert!(a.fix.contains("path") && !a.fix.contains("chmod"), "{m:?}");
        }
        // Postfix and Exim still offer STARTTLS with a broken key: they answer 454.
        for m in [Mta::Postfix, Mta::Exim] {
            for k in [
                TlsErrorKind::PrivateKey,
                TlsErrorKind::Certificate,
                TlsErrorKind::MissingFile,
            ] {
                let c = advice(k, m).cause;
                assert!(
                    c.contains("still offers STARTTLS") && c.contains("454"),
                    "{m:?} {k}"
                );
                assert!(!c.contains("not offered"), "{m:?} {k}");
            }
        }
    }
}
