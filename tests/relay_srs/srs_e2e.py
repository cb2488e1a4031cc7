#!/usr/bin/python3
"""srs_e2e.py - SRS in the spfgate relay, end to end on loopback.

Usage: srs_e2e.py PATH/TO/spfgate

The rig is tests/relay/relay_test.py's (imported, not copied): NSD with
the signed test zones, smtp-sink dumping every transaction with its
envelope, spfgate started in the foreground, raw SMTP clients.  A few
names are added to the signed good.test zone for the SRS policies:

  good.test, fw.good.test     SRS rewritten by the [srs] defaults
  quiet.good.test             [domain] srs = no
  nofwd.good.test             [domain] forward_bounces = no
  special.good.test           [domain] srs_domain = srs.special.test
  own.good.test               [srs] exclude_domains
  mta.good.test               a HELO name whose SPF allows 127.0.0.0/8

Bounces (MAIL FROM:<>) are checked as postmaster@HELO, so they say
EHLO mta.good.test.  The reversal rate limit (3/1m) counts per client
address, including refused attempts, so every bounce case connects from
its own 127.0.0.N and makes at most three bounce-domain RCPTs.

Expected SRS addresses are never taken from spfgate: they are computed
here (HMAC-SHA1 per docs/srs.md) or by Perl's Mail::SRS, the reference
implementation, with the same secret.  The test checks what reaches the
backend (smtp-sink's X-Mail-Args / X-Rcpt-Args and its command log), the
replies to the client and the relay's srs_rewrite / srs_reverse log
lines; every relay must stop cleanly with no sanitizer report.

One line per case ("ok NAME" or "FAIL NAME: why"), then
"N passed, N failed"; exit status 1 if anything failed.
"""
import atexit
import base64
import hashlib
import hmac
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def load_rig():
    """tests/relay/relay_test.py as a module."""
    path = os.path.join(HERE, "..", "relay", "relay_test.py")
    spec = importlib.util.spec_from_file_location("relay_test", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


rt = load_rig()
Failure, check, check_eq = rt.Failure, rt.check, rt.check_eq
expect, greet, message, transaction = (rt.expect, rt.greet, rt.message,
                                       rt.transaction)

WATCHDOG_S = 240
PERL = "/usr/bin/perl"
BOUNCE = "bounce.test"
SPECIAL_BOUNCE = "srs.special.test"
HELO_BOUNCER = "mta.good.test"
DAY = 86400
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET = "e2e-" + base64.b64encode(os.urandom(18)).decode()
OLD_SECRET = "the old secret, still verifying"

rt.GOOD_ZONE = rt.GOOD_ZONE + [
    'mta IN TXT "v=spf1 ip4:127.0.0.0/8 -all"',
    'fw IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    'quiet IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    'nofwd IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    'special IN TXT "v=spf1 ip4:127.0.0.1 -all"',
    'own IN TXT "v=spf1 ip4:127.0.0.1 -all"',
]

# Mail::SRS with a clock we choose (as tests/srs/mailsrs_compat.pl does).
MAILSRS_FORWARD = r'''
our $NOW;
BEGIN { *CORE::GLOBAL::time = sub () { defined $NOW ? $NOW : CORE::time() }; }
use strict;
use warnings;
use Mail::SRS;
my ($secret, $alias, $now, @senders) = @ARGV;
$NOW = $now;
my $srs = Mail::SRS->new(Secret => [$secret], MaxAge => 21,
    HashLength => 4, Separator => '=');
print $srs->forward($_, $alias), "\n" for @senders;
'''


# ---------------------------------------------------------------- SRS here

def srs_stamp(t):
    """The two-character day stamp of Unix time t."""
    day = int(t // DAY) & 1023
    return B32[day >> 5] + B32[day & 31]


def srs_hash(secret, *fields):
    """HMAC-SHA1 over the lower-cased fields, base64, 4 characters."""
    msg = "".join(f.lower() for f in fields).encode()
    mac = hmac.new(secret.encode(), msg, hashlib.sha1).digest()
    return base64.b64encode(mac).decode()[:4]


def srs0(addr, alias, t=None, secret=SECRET):
    """addr as SRS0 at alias, made at time t (now by default)."""
    user, _, domain = addr.rpartition("@")
    tt = srs_stamp(time.time() if t is None else t)
    return "SRS0=%s=%s=%s=%s@%s" % (srs_hash(secret, tt, domain, user), tt,
                                    domain, user, alias)


def mailsrs_forward(senders, alias, t=None, secret=SECRET):
    """Mail::SRS->forward of every sender at time t."""
    now = int(time.time() if t is None else t)
    r = subprocess.run([PERL, "-e", MAILSRS_FORWARD, secret, alias,
                        str(now)] + list(senders), capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, "Mail::SRS: %s" % r.stderr.strip())
    out = r.stdout.split("\n")[:-1]
    check_eq(len(out), len(senders), "Mail::SRS output lines")
    return out


def away_from_midnight():
    """Waits (at most 10 s) so that no day boundary falls within a case."""
    left = DAY - time.time() % DAY
    if left < 10:
        time.sleep(left + 0.5)


def need_mailsrs():
    """Installs Mail::SRS with apt-get if missing, or fails."""
    def have():
        return subprocess.run([PERL, "-MMail::SRS", "-e", "1"],
                              capture_output=True).returncode == 0
    if not have():
        print("srs_e2e: installing libmail-srs-perl", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "libmail-srs-perl"],
                       env=env, stdout=subprocess.DEVNULL, check=False)
    if not have():
        raise RuntimeError("Mail::SRS is missing and could not be installed")


# ---------------------------------------------------------------- helpers

def unescape(value):
    """A quoted log value without its backslash escapes."""
    return re.sub(r"\\(.)", r"\1", value or "")


def envelope(d):
    """(sender, [recipients]) of a dump, without the angle brackets."""
    sender = d.env.get("X-Mail-Args", "").split(" ")[0]
    rcpts = [a.split(" ")[0] for a in d.rcpt_args]
    return sender[1:-1], [r[1:-1] for r in rcpts]


class SrsCases:
    """Cases on one relay with the [srs] and [domain] configuration."""

    def __init__(self, suite, relay):
        self.s = suite
        self.r = relay
        self.sink = suite.sink
        self.port = relay.port
        self.next_ip = 10

    def backend_saw(self, text):
        """1 if smtp-sink's command log holds text (ignoring case)."""
        return text.lower() in self.sink.log().lower()

    def source(self):
        """A client address used by no other case (for the rate limit)."""
        self.next_ip += 1
        check(self.next_ip < 255, "out of client addresses")
        return "127.0.0.%d" % self.next_ip

    # -- outbound: sender rewriting

    def forward_one(self, sender, token):
        """Delivers one message from sender; returns its dump."""
        expect(rt.deliver(self.port, sender, token), 250, "2.",
               "final reply")
        return self.sink.dump(token)

    def rewrite_case(self, sender, alias, token):
        """sender reaches the backend as SRS0 at alias; headers unchanged."""
        away_from_midnight()
        t0 = time.time()
        d = self.forward_one(sender, token)
        got, rcpts = envelope(d)
        want = {srs0(sender, alias, t) for t in (t0, time.time())}
        check(got in want, "backend sender %r, want %r" % (got, want))
        check_eq(rcpts, ["rcpt-%s@dest.example" % token], "recipients")
        # SPF was checked on the original sender and the headers say so.
        rt.spf_header_checks(d, "pass", sender, "secure")
        for name in ("Received-SPF", "Authentication-Results"):
            check(not any("SRS0" in v for v in d.header(name)),
                  "%s names the rewritten sender: %r"
                  % (name, d.header(name)))
        kv = self.r.wait_log(lambda kv: kv.get("sender") == sender,
                             "srs_rewrite")
        check_eq(kv.get("rewritten"), got, "logged rewritten sender")
        return got

    def rewrite_plain(self):
        token = "srsfwd-t1"
        got = self.rewrite_case("alice-%s@good.test" % token, BOUNCE, token)
        user = got.split("@")[0]
        check(user.startswith("SRS0=") and got.endswith("@" + BOUNCE),
              "rewritten %r" % got)

    def rewrite_matches_mailsrs(self):
        """The relay's rewriting is byte for byte Mail::SRS's."""
        away_from_midnight()
        token = "srsperl-t1"
        sender = "Carol.%s+tag@Good.Test" % token
        t0 = time.time()
        got, _ = envelope(self.forward_one(sender, token))
        want = {mailsrs_forward([sender], BOUNCE, t)[0]
                for t in (t0, time.time())}
        check(got in want, "relay %r, Mail::SRS %r" % (got, want))

    def rewrite_special_domain(self):
        token = "srsspecial-t1"
        self.rewrite_case("bob-%s@special.good.test" % token,
                          SPECIAL_BOUNCE, token)

    def rewrite_srs0_of_other_forwarder(self):
        """An SRS0 sender of another domain becomes SRS1 (Mail::SRS too)."""
        away_from_midnight()
        token = "srs1fwd-t1"
        theirs = srs0("dave-%s@orig.example" % token, "fw.good.test",
                      secret="another forwarder's secret")
        t0 = time.time()
        got, _ = envelope(self.forward_one(theirs, token))
        want = {mailsrs_forward([theirs], BOUNCE, t)[0]
                for t in (t0, time.time())}
        check(got in want, "relay %r, Mail::SRS %r" % (got, want))
        check(got.startswith("SRS1=") and "=fw.good.test==" in got,
              "not an SRS1 naming fw.good.test: %r" % got)

    def rewrite_impossible(self):
        """Legal senders SRS cannot carry: refused for good, not deferred."""
        for sender in ('"john doe"@good.test', '"a@b"@good.test'):
            with greet(self.port) as c:
                r = c.cmd("MAIL FROM:<%s>" % sender)
                expect(r, 550, "5.1.7", "MAIL FROM:<%s>" % sender)
                expect(c.cmd("MAIL FROM:<next-rwimp-t1@good.test>"), 250,
                       "2.", "the next MAIL")
                expect(c.cmd("RSET"), 250, what="RSET")
            kv = self.r.wait_log(lambda kv: unescape(kv.get("sender")) ==
                                 sender, "transaction")
            check_eq((kv.get("outcome"), kv.get("reply")),
                     ("refused_srs", "550"), "transaction line")
            self.r.wait_log(lambda kv: unescape(kv.get("sender")) == sender,
                            "srs_rewrite_failed")
            check(not self.backend_saw(sender), "%s reached the backend"
                  % sender)

    def not_rewritten(self, sender, token, helo="client.good.test"):
        """sender reaches the backend unchanged, no srs_rewrite line."""
        with greet(self.port, helo) as c:
            r = transaction(c, sender, ["rcpt-%s@dest.example" % token],
                            message(token))
            expect(r, 250, "2.", "final reply")
        got, _ = envelope(self.sink.dump(token))
        check_eq(got, sender, "backend sender")
        self.r.wait_log(lambda kv: kv.get("sender") == sender,
                        "transaction")
        lines = [kv for kv in self.r.log_lines("srs_rewrite")
                 if kv.get("sender") == sender]
        check(not lines, "srs_rewrite logged: %r" % lines)

    def norewrite_excluded(self):
        self.not_rewritten("norw-ex@own.good.test", "norw-ex-t1")

    def norewrite_domain_srs_no(self):
        self.not_rewritten("norw-quiet@quiet.good.test", "norw-quiet-t1")

    def norewrite_null_sender(self):
        self.not_rewritten("", "norw-null-t1", HELO_BOUNCER)

    def norewrite_bounce_domain(self):
        # Already ours (any case): rewriting it again would be a loop.
        self.not_rewritten("norw-own-t1@Bounce.Test", "norw-own-t1")

    # -- bounces: reversal

    def bounce(self, rcpts, token, source=None):
        """MAIL FROM:<> and the RCPTs; returns the replies (DATA sent and
        the final reply appended when one was accepted)."""
        replies = []
        with greet(self.port, HELO_BOUNCER, source or self.source()) as c:
            expect(c.cmd("MAIL FROM:<>"), 250, "2.", "MAIL FROM:<>")
            for r in rcpts:
                replies.append(c.cmd("RCPT TO:<%s>" % r))
            if any(r.code == 250 for r in replies):
                expect(c.cmd("DATA"), 354, what="DATA")
                c.send(message(token) + ".\r\n")
                replies.append(c.reply(20))
            expect(c.cmd("QUIT"), 221, what="QUIT")
        return replies

    def reverse_logged(self, rcpt, outcome, original=None):
        """The srs_reverse line for rcpt; checks outcome and original."""
        kv = self.r.wait_log(lambda kv: kv.get("rcpt") == rcpt,
                             "srs_reverse")
        check_eq(kv.get("outcome"), outcome, "logged outcome")
        if original is not None:
            check_eq(kv.get("original"), original, "logged original")
        return kv

    def reversed_to(self, addr, original, token):
        """A bounce to addr reaches the backend for original."""
        replies = self.bounce([addr], token)
        expect(replies[0], 250, "2.", "RCPT TO the SRS address")
        expect(replies[-1], 250, "2.", "end of data")
        d = self.sink.dump(token)
        check_eq(envelope(d), ("", [original]), "backend envelope")
        check(not self.backend_saw("RCPT TO:<%s>" % addr),
              "the SRS address itself was given to the backend")
        self.reverse_logged(addr, "forward", original)

    def bounce_srs0(self):
        orig = "erin-bsrs0-t1@good.test"
        self.reversed_to(srs0(orig, BOUNCE), orig, "bsrs0-t1")

    def round_trip(self):
        """The relay's own rewriting, bounced back, reaches the sender."""
        sender = "frank-trip-t1@good.test"
        got, _ = envelope(self.forward_one(sender, "trip-t1"))
        check(got.startswith("SRS0="), "not rewritten: %r" % got)
        self.reversed_to(got, sender, "trip-t1-bounce")

    def bounce_special_domain(self):
        orig = "gina-bspecial-t1@special.good.test"
        self.reversed_to(srs0(orig, SPECIAL_BOUNCE), orig, "bspecial-t1")

    def bounce_srs1(self):
        """SRS1 reverses to the SRS0 at the first forwarder."""
        first_hop = srs0("hank-bsrs1-t1@orig.example", "fw1.example",
                         secret="first forwarder's secret")
        ours = mailsrs_forward([first_hop], BOUNCE)[0]
        check(ours.startswith("SRS1="), "Mail::SRS gave %r" % ours)
        self.reversed_to(ours, first_hop, "bsrs1-t1")

    def bounce_mailsrs(self):
        """An SRS0 made by Mail::SRS is forwarded to the original."""
        orig = "Ivy.bperl-t1+x@good.test"
        addr = mailsrs_forward([orig], BOUNCE)[0]
        self.reversed_to(addr, orig, "bperl-t1")

    def bounce_case_mangled(self):
        orig = "jack-bcase-t1@good.test"
        addr = srs0(orig, BOUNCE).upper()
        self.reversed_to(addr, orig.upper(), "bcase-t1")

    def bounce_old_secret(self):
        """Signed with the second secret of the file: still verifies."""
        orig = "kim-bold-t1@good.test"
        self.reversed_to(srs0(orig, BOUNCE, secret=OLD_SECRET), orig,
                         "bold-t1")

    def bounce_last_valid_day(self):
        """max_age (21 days) old: accepted."""
        away_from_midnight()
        orig = "lou-bage21-t1@good.test"
        self.reversed_to(srs0(orig, BOUNCE, time.time() - 21 * DAY), orig,
                         "bage21-t1")

    def refused(self, rcpt, code, enhanced, token, sender="", reason=None):
        """RCPT TO rcpt refused; nothing of it reaches the backend."""
        if sender:
            with greet(self.port, "client.good.test") as c:
                expect(c.cmd("MAIL FROM:<%s>" % sender), 250, "2.", "MAIL")
                r = c.cmd("RCPT TO:<%s>" % rcpt)
                expect(c.cmd("DATA"), 554, what="DATA without recipients")
        else:
            r = self.bounce([rcpt], token)[0]
        expect(r, code, enhanced, "RCPT TO:<%s>" % rcpt)
        kv = self.reverse_logged(rcpt, "refused")
        if reason:
            check(reason in kv.get("reason", ""), "logged reason %r lacks %r"
                  % (kv.get("reason"), reason))
        check(not self.backend_saw(rcpt), "%s reached the backend" % rcpt)
        self.sink.assert_absent(token, settle=0.5)
        return r

    def bounce_tampered(self):
        orig = "mia-btamper-t1@good.test"
        addr = srs0(orig, BOUNCE)
        # Changed even ignoring case: hashes are compared case-folded.
        first = "B" if addr[5].lower() == "a" else "A"
        addr = addr[:5] + first + addr[6:]
        self.refused(addr, 550, "5.1.1", "btamper-t1")
        check(not self.backend_saw(orig), "the original reached the backend")

    def bounce_tampered_user(self):
        """A valid hash over another user does not cover this one."""
        addr = srs0("nat-btuser-t1@good.test", BOUNCE)
        addr = addr.replace("=nat-", "=eve-")
        self.refused(addr, 550, "5.1.1", "btuser-t1")

    def bounce_expired(self):
        """22 days old (max_age 21), made by `spfgate srs forward`."""
        away_from_midnight()
        orig = "olga-bexp-t1@good.test"
        r = subprocess.run([self.s.spfgate, "srs", "forward", orig, "-c",
                            self.r.confpath, "--now",
                            str(int(time.time()) - 22 * DAY)],
                           capture_output=True, text=True, timeout=30)
        check_eq(r.returncode, 0, "spfgate srs forward exit status (%s)"
                 % r.stderr.strip())
        addr = r.stdout.strip()
        check_eq(addr, srs0(orig, BOUNCE, time.time() - 22 * DAY),
                 "spfgate srs forward --now")
        self.refused(addr, 550, "5.1.1", "bexp-t1", reason="expired")
        check(not self.backend_saw(orig), "the original reached the backend")

    def bounce_expired_mailsrs(self):
        """Mail::SRS made it 30 days ago."""
        orig = "pete-bexpp-t1@good.test"
        addr = mailsrs_forward([orig], BOUNCE, time.time() - 30 * DAY)[0]
        self.refused(addr, 550, "5.1.1", "bexpp-t1", reason="expired")

    def bounce_future(self):
        """A stamp from three days ahead is refused too."""
        addr = srs0("quin-bfut-t1@good.test", BOUNCE, time.time() + 3 * DAY)
        self.refused(addr, 550, "5.1.1", "bfut-t1")

    def no_open_relay(self):
        """Other local parts of a bounce domain are refused."""
        for i, rcpt in enumerate(("postmaster@" + BOUNCE,
                                  "random-t1@" + BOUNCE,
                                  "postmaster@" + SPECIAL_BOUNCE,
                                  "SRS0=broken@" + BOUNCE)):
            self.refused(rcpt, 550, "5.1.1", "openrelay-t%d" % i)

    def non_null_sender(self):
        addr = srs0("rita-bnonnull-t1@good.test", BOUNCE)
        self.refused(addr, 550, "5.7.1", "bnonnull-t1",
                     sender="someone@good.test")

    def forward_bounces_no(self):
        orig = "sam-bnofwd-t1@nofwd.good.test"
        addr = srs0(orig, BOUNCE)
        r = self.refused(addr, 550, "5.7.1", "bnofwd-t1")
        check("not forwarded" in r.text, "reply text %r" % r.text)
        check(not self.backend_saw(orig), "the original reached the backend")

    def rate_limit(self):
        """3 reversals per minute per client: the 4th gets 450 4.7.1."""
        ip = self.source()
        origs = ["rl%d-brate-t1@good.test" % i for i in range(5)]
        addrs = [srs0(o, BOUNCE) for o in origs]
        # Two sessions: the limit is per client address, not per session.
        first = self.bounce(addrs[:2], "brate-t1-a", ip)
        second = self.bounce(addrs[2:4], "brate-t1-b", ip)
        for i, r in enumerate(first[:2] + second[:1]):
            expect(r, 250, "2.", "reversal %d" % (i + 1))
        expect(second[1], 450, "4.7.1", "4th reversal within a minute")
        expect(second[2], 250, "2.", "end of data of the 2nd session")
        self.reverse_logged(addrs[3], "refused")
        check(not self.backend_saw(origs[3]), "the 4th reached the backend")
        check_eq(envelope(self.sink.dump("brate-t1-b")),
                 ("", [origs[2]]), "2nd session's envelope")
        # Another client is not affected.
        self.reversed_to(addrs[4], origs[4], "brate-t1-c")

    def mixed_recipients(self):
        """A bounce with a good and a bad SRS recipient: the good one only."""
        good = "tom-bmix-t1@good.test"
        addrs = [srs0(good, BOUNCE), "random-bmix-t1@" + BOUNCE]
        replies = self.bounce(addrs, "bmix-t1")
        expect(replies[0], 250, "2.", "valid SRS")
        expect(replies[1], 550, "5.1.1", "not SRS")
        expect(replies[2], 250, "2.", "end of data")
        check_eq(envelope(self.sink.dump("bmix-t1")), ("", [good]),
                 "backend envelope")

    def bounce_headers(self):
        """A forwarded bounce says SPF checked postmaster@HELO."""
        orig = "uma-bhdr-t1@good.test"
        self.reversed_to(srs0(orig, BOUNCE), orig, "bhdr-t1")
        rspf = self.sink.dump("bhdr-t1").header("Received-SPF")
        check(len(rspf) == 1 and rspf[0].startswith("pass ") and
              "postmaster@%s" % HELO_BOUNCER in rspf[0],
              "Received-SPF: %r" % rspf)


def srs_config(secrets):
    """The [srs] and [domain] sections."""
    return ("[srs]\nenabled = yes\ndomain = %s\nsecrets_file = %s\n"
            "exclude_domains = own.good.test\n"
            "reverse_rate_limit = 3/1m\n"
            "[domain quiet.good.test]\nsrs = no\n"
            "[domain nofwd.good.test]\nforward_bounces = no\n"
            "[domain special.good.test]\nsrs_domain = %s\n"
            % (BOUNCE, secrets, SPECIAL_BOUNCE))


def write_secrets(work, name, mode):
    """The secrets file (new secret first, then the old one)."""
    path = os.path.join(work, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write("%s\n%s\n" % (SECRET, OLD_SECRET))
    os.chmod(path, mode)
    return path


def run_srs_group(suite):
    """Every case on one relay."""
    secrets = write_secrets(suite.work, "srs.secrets", 0o600)
    relay = suite.relay("srs", extra=srs_config(secrets))
    m = SrsCases(suite, relay)
    for name in ("rewrite_plain", "rewrite_matches_mailsrs",
                 "rewrite_special_domain", "rewrite_srs0_of_other_forwarder",
                 "rewrite_impossible",
                 "norewrite_excluded", "norewrite_domain_srs_no",
                 "norewrite_null_sender", "norewrite_bounce_domain",
                 "bounce_srs0", "round_trip", "bounce_special_domain",
                 "bounce_srs1", "bounce_mailsrs", "bounce_case_mangled",
                 "bounce_old_secret", "bounce_last_valid_day",
                 "bounce_tampered", "bounce_tampered_user", "bounce_expired",
                 "bounce_expired_mailsrs", "bounce_future", "no_open_relay",
                 "non_null_sender", "forward_bounces_no", "rate_limit",
                 "mixed_recipients", "bounce_headers"):
        suite.case(name, getattr(m, name))
    suite.stop_case(relay)


def run_secrets_mode_group(suite):
    """A secrets file others can read: the relay refuses to start."""
    def world_readable():
        secrets = write_secrets(suite.work, "open.secrets", 0o644)
        conf = os.path.join(suite.work, "open.conf")
        with open(os.path.join(suite.work, "srs.conf")) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace(os.path.join(suite.work, "srs.secrets"),
                                 secrets))
        log = os.path.join(suite.work, "open.stderr")
        with open(log, "wb") as out:
            p = rt.spawn([suite.spfgate, "serve", "-c", conf],
                         subprocess.DEVNULL, out)
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            rt.stop_proc(p)
            raise Failure("serve started with a world-readable secrets file")
        with open(log, "rb") as f:
            text = f.read().decode("latin-1")
        check(rc != 0, "exit status 0")
        check(secrets in text, "the message does not name the file: %r"
              % text[-500:])
        check(not any(m in text for m in rt.SANITIZER_MARKS),
              "sanitizer: %r" % text[-2000:])

    suite.case("secrets_world_readable_refused", world_readable)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: srs_e2e.py PATH/TO/spfgate")
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, rt.on_signal)
    rt.WATCHDOG_S = WATCHDOG_S
    signal.signal(signal.SIGALRM, rt.on_watchdog)
    signal.alarm(WATCHDOG_S)
    atexit.register(rt.cleanup)
    rt.need_tools()
    need_mailsrs()
    suite = rt.Suite(os.path.abspath(sys.argv[1]))
    t0 = time.monotonic()
    keep = os.environ.get("RELAY_TEST_KEEP") == "1"
    try:
        suite.dns.make_zones()
        suite.dns.start_nsd()
        suite.sink = rt.Sink(suite.work, "sink")
        print("srs_e2e: work dir %s, nsd %d, sink %d"
              % (suite.work, suite.dns.port, suite.sink.port), flush=True)
        for group in (run_srs_group, run_secrets_mode_group):
            try:
                group(suite)
            except (Failure, RuntimeError, OSError) as e:
                suite.failed += 1
                print("FAIL %s: %s" % (group.__name__, e), flush=True)
    finally:
        rt.cleanup()
        if suite.failed or keep:
            print("srs_e2e: logs kept in %s" % suite.work, flush=True)
        else:
            shutil.rmtree(suite.work, ignore_errors=True)
    print("srs_e2e: %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
