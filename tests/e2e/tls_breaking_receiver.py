#!/usr/bin/env python3
"""A receiving SMTP server on 127.0.0.1 whose TLS always breaks (tests/e2e/run.sh).

It offers STARTTLS, answers 220 to it, reads the client's ClientHello and answers with
a fatal TLS alert (handshake_failure, as a server with no cipher in common would), then
closes. A client that falls back to clear (Sendmail TLSFallbacktoClear, Postfix and Exim
with opportunistic TLS) reconnects and delivers in plaintext: that mail is accepted and
appended to OUTFILE. With --no-starttls it does not offer STARTTLS at all (a receiver
for "TLS is required, but was not offered"). With --cert CERT --key KEY its TLS works,
with that certificate (a self-signed one, for "the peer's certificate does not verify"):
the mail then comes over TLS. It serves until killed; the script stops it by its PID.

Usage: tls_breaking_receiver.py PORT OUTFILE PIDFILE [--no-starttls | --cert CERT --key KEY]
"""
import os
import socket
import ssl
import sys
import threading

ALERT_HANDSHAKE_FAILURE = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])


def serve(conn, outfile, counter, starttls, tls):
    f = conn.makefile("rb")

    def send(line):
        conn.sendall(line.encode() + b"\r\n")

    send("220 fb.example.test ESMTP tls-breaking test receiver")
    data = []
    try:
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode("latin-1").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                send("250-fb.example.test")
                send("250-PIPELINING")
                if starttls:
                    send("250-8BITMIME")
                    send("250 STARTTLS")
                else:
                    send("250 8BITMIME")
            elif verb == "STARTTLS" and starttls:
                send("220 2.0.0 Ready to start TLS")
                if tls is None:
                    conn.recv(16384)  # the ClientHello
                    conn.sendall(ALERT_HANDSHAKE_FAILURE)
                    return
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate, or hung up
                f = conn.makefile("rb")
                starttls = False  # not offered again after the handshake
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                send("250 2.1.0 Ok")
            elif verb == "DATA":
                send("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    d = f.readline()
                    if not d or d in (b".\r\n", b".\n"):
                        break
                    data.append(d.decode("latin-1"))
                counter[0] += 1
                with open(outfile, "a") as out:
                    out.write("From fb\n" + "".join(data).replace("\r\n", "\n") + "\n")
                data = []
                send("250 2.0.0 Ok: queued as FB%04d" % counter[0])
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                if isinstance(conn, ssl.SSLSocket):
                    conn.unwrap()  # close_notify, as an MTA sends it
                return
            else:
                send("502 5.5.2 Error: command not recognized")
    except OSError:
        return
    finally:
        conn.close()


def main():
    port, outfile, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    starttls = "--no-starttls" not in args
    tls = None
    if "--cert" in args:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args[args.index("--cert") + 1], args[args.index("--key") + 1])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    with open(pidfile, "w") as p:
        p.write("%d\n" % os.getpid())
    counter = [0]
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, outfile, counter, starttls, tls), daemon=True).start()


if __name__ == "__main__":
    main()
