#!/usr/bin/env bash
# Builds the seed corpora of every fuzz target from sample-logs/ (one file per line or
# message) plus a few hand-written SMTP replies, TLS records and MTA config files.
# Corpora are not committed: run this before fuzzing. Usage: bash tests/fuzz/seed.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
logs="$root/sample-logs"
out="$here/corpus"
rm -rf "$out"
mkdir -p "$out"/{envelope,sendmail,postfix,exim,received,mbox,smtp_reply,server_hello,mta_config}

# One corpus file per distinct input; the name is its hash, as libFuzzer names them.
put() { # put TARGET < bytes
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  mv "$tmp" "$out/$1/$(sha1sum "$tmp" | cut -c1-40)"
}

all_logs() {
  cat "$logs/maillog" "$logs/relay2/mail.log" "$logs/postfix/mail.log" \
    "$logs/postfix/mail.log.1" "$logs/exim/mainlog"
  zcat "$logs/postfix/mail.log.2.gz" "$logs/oldrelay/maillog.1.gz"
}

# Envelope: whole lines (syslog and mainlog forms), plus CRLF and RFC 5424 variants.
all_logs | while IFS= read -r line; do printf '%s' "$line" | put envelope; done
head -n 5 "$logs/maillog" | while IFS= read -r line; do printf '%s\r' "$line" | put envelope; done
printf '<22>1 2026-11-27T06:30:10.123456+01:00 mx2 postfix/smtpd 2101 - - connect from a.example[192.0.2.1]' | put envelope
printf '{"__REALTIME_TIMESTAMP":"1795754615000000","_HOSTNAME":"mx","SYSLOG_IDENTIFIER":"sm-mta","_PID":"7","MESSAGE":"STARTTLS=server, relay=a.example [192.0.2.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256"}' | put envelope

# Sendmail: the message text after `prog[pid]: `.
{ cat "$logs/maillog" "$logs/relay2/mail.log"; zcat "$logs/oldrelay/maillog.1.gz"; } |
  grep -E ' (sm-[a-z-]+|sendmail)\[[0-9]+\]: ' | sed -E 's/^.*\]: //' |
  while IFS= read -r m; do printf '%s' "$m" | put sendmail; done

# Postfix: a byte naming the daemon (index into PROGRAMS in postfix.rs), then the text.
{ cat "$logs/postfix/mail.log" "$logs/postfix/mail.log.1"; zcat "$logs/postfix/mail.log.2.gz"; } |
  grep -E ' postfix/' | while IFS= read -r line; do
    prog="$(sed -E 's/^.* (postfix\/[a-z/]+)\[[0-9]+\]: .*$/\1/' <<<"$line")"
    case "$prog" in
      postfix/smtpd) b='\x00' ;; postfix/smtp) b='\x01' ;; postfix/qmgr) b='\x02' ;;
      postfix/cleanup) b='\x03' ;; postfix/submission/smtpd) b='\x04' ;;
      postfix/lmtp) b='\x05' ;; postfix/tlsproxy) b='\x06' ;; postfix/postscreen) b='\x07' ;;
      *) b='\x08' ;;
    esac
    { printf "$b"; printf '%s' "$(sed -E 's/^.*\]: //' <<<"$line")"; } | put postfix
  done

# Exim: mainlog lines after the timestamp.
sed -E 's/^[0-9-]+ [0-9:.]+ //' "$logs/exim/mainlog" |
  while IFS= read -r m; do printf '%s' "$m" | put exim; done

# Received: unfolded header values from the stored messages.
find "$logs/messages" -type f ! -name '*.md' -print0 |
  xargs -0 awk '
    /^$/ { if (v != "") print v; v = ""; inhdr = 0; nextfile }
    /^[Rr]eceived:/ { if (v != "") print v; v = substr($0, 11); next }
    /^[ \t]/ { if (v != "") { sub(/^[ \t]+/, " "); v = v $0 }; next }
    { if (v != "") print v; v = "" }
  ' | while IFS= read -r v; do printf '%s' "$v" | put received; done

# Mbox: a buffer-size byte, then the mailbox or a single message.
{ printf '\x30'; cat "$logs/messages/bob.mbox"; } | put mbox
{ printf '\x00'; head -c 4096 "$logs/messages/bob.mbox"; } | put mbox
for f in "$logs/messages/"*.eml; do { printf '\x10'; cat "$f"; } | put mbox; done

# SMTP replies: greeting, EHLO lists, STARTTLS answers, odd forms.
printf '220 mx.example ESMTP Sendmail 8.17.2/8.17.2; ready\r\n' | put smtp_reply
printf '250-mx.example Hello [127.0.0.1]\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 HELP\r\n' | put smtp_reply
printf '220 2.0.0 Ready to start TLS\r\n' | put smtp_reply
printf '454 4.7.0 TLS not available due to local problem\r\n' | put smtp_reply
printf '220-first\n220-second\n220\n250 ok\n' | put smtp_reply
printf '554 5.7.1 no\r\n421 4.3.2 shutting down\r\n' | put smtp_reply

# TLS records: alert, TLS 1.2 ServerHello + Certificate + Done, TLS 1.3 ServerHello,
# HelloRetryRequest. Two leading bytes: piece size, want-certificate.
python3 - "$out/server_hello" <<'PY'
import hashlib, os, struct, sys
out = sys.argv[1]
def rec(ty, body, ver=b"\x03\x03"):
    return bytes([ty]) + ver + struct.pack(">H", len(body)) + body
def hs(ty, body):
    return bytes([ty]) + struct.pack(">I", len(body))[1:] + body
def hello(version, suite, random=os.urandom(32), exts=b""):
    b = version + random + b"\x20" + b"\x11" * 32 + struct.pack(">H", suite) + b"\x00"
    if exts:
        b += struct.pack(">H", len(exts)) + exts
    return b
hrr = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
sv13 = b"\x00\x2b\x00\x02\x03\x04"
cert = b"\x30\x82\x01\x00" + b"\x01" * 256
seeds = [
    rec(21, b"\x02\x28"),
    rec(22, hs(2, hello(b"\x03\x03", 0xC02F)) + hs(11, struct.pack(">I", len(cert) + 3)[1:] + struct.pack(">I", len(cert))[1:] + cert) + hs(14, b"")),
    rec(22, hs(2, hello(b"\x03\x03", 0x1301, exts=sv13))) + rec(20, b"\x01"),
    rec(22, hs(2, hello(b"\x03\x03", 0x1302, random=hrr, exts=sv13))),
    rec(22, hs(2, hello(b"\x03\x01", 0x002F)) + hs(14, b""), ver=b"\x03\x01"),
    b"220 not tls\r\n",
]
for i, s in enumerate(seeds):
    for head in (b"\xff\x01", b"\x05\x00"):
        data = head + s
        open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
PY

# MTA configuration: sendmail.cf options and a Debian-like main.cf.
cat <<'CF' | put mta_config
# sendmail.cf excerpt
O DaemonPortOptions=Name=MTA-v4, Family=inet
O CACertPath=/etc/mail/tls
O CACertFile=/etc/mail/tls/ca.pem
O ServerCertFile=/etc/mail/tls/server.pem
O ServerKeyFile=/etc/mail/tls/server.key
O ClientCertFile=/etc/mail/tls/client.pem
O ClientKeyFile=/etc/mail/tls/client.key
O CipherList=HIGH:!aNULL
O TLSFallbacktoClear=true
CF
cat <<'CF' | put mta_config
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
myhostname = mx.example
mail_name = Postfix
smtpd_tls_cert_file = ${config_directory}/certs/mx.pem
smtpd_tls_key_file = $(config_directory)/private/mx.key
smtpd_tls_security_level = may
smtp_tls_security_level = dane
smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3,
    !TLSv1, !TLSv1.1
CF

for t in "$out"/*; do printf '%-14s %4d seeds\n' "$(basename "$t")" "$(ls "$t" | wc -l)"; done
