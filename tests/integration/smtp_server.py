#!/usr/bin/env python3
"""A real SMTP server on loopback for Herald's tests (aiosmtpd, Debian python3-aiosmtpd).

Usage: smtp_server.py PORT OUTDIR

Every accepted message is written to OUTDIR/NNNNNN.eml exactly as received (written to a
temporary name, then renamed, so a reader never sees half a file). Every new connection
appends a line to OUTDIR/connections. Recipients decide the reply, to exercise the client's
error handling:
  temp...@    451 4.3.0 at RCPT TO (retryable)
  reject...@  550 5.1.1 at RCPT TO (permanent)
  drop...@    the connection is closed without a reply
Writes "ready" to OUTDIR/ready once listening.
"""
import os
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with open(os.path.join(self.outdir, "connections"), "a") as f:
            f.write(hostname + "\n")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("temp"):
            return "451 4.3.0 mailbox busy, try again later"
        if local.startswith("reject"):
            return "550 5.1.1 no such user here"
        if local.startswith("drop"):
            server.transport.close()
            return "421 closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.outdir, "%06d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted as %06d" % self.count


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    # SMTPUTF8 and 8BITMIME advertised like a modern relay; no TLS on loopback.
    controller = Controller(Handler(outdir), hostname="127.0.0.1", port=port,
                            enable_SMTPUTF8=True, decode_data=False)
    controller.start()
    with open(os.path.join(outdir, "ready"), "w") as f:
        f.write("ready\n")
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
