#!/usr/bin/python3
"""check_manpages.py - the man pages render cleanly and match the command.

Usage: /usr/bin/python3 check_manpages.py PATH/TO/spfgate PACKAGING_DIR

1. Renders every man page in PACKAGING_DIR (*.1 .. *.8) with
   `man --warnings -l -Tutf8 FILE`; any groff/tbl warning or a non-zero
   exit fails.  man-db and groff are installed with apt-get when missing.
2. Reads the commands from the SYNOPSIS of spfgate.8 (".SY "spfgate CMD""
   lines) and checks that `spfgate --help` lists exactly those commands.
3. Checks that the version in each page's .TH line is the one
   `spfgate version` prints.
4. For every command, checks that each long option (--name) shown in its
   SYNOPSIS appears in `spfgate CMD -h`, and the reverse, so the page
   and the program cannot drift apart silently.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

failures = 0
passed = 0


def check(ok, what):
    """Counts one assertion, printing it when it fails."""
    global failures, passed
    if ok:
        passed += 1
    else:
        failures += 1
        print("FAIL", what, file=sys.stderr)


def ensure_man():
    """Installs man-db (and groff-base) if `man` is missing."""
    if shutil.which("man") and shutil.which("groff"):
        return
    print("check_manpages: installing man-db groff-base", file=sys.stderr)
    env = {"DEBIAN_FRONTEND": "noninteractive",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    install = ["apt-get", "install", "-y", "-q", "man-db", "groff-base"]
    if subprocess.run(install, stdout=subprocess.DEVNULL,
                      env=env).returncode != 0:
        # Package lists may be missing on a fresh machine.
        subprocess.run(["apt-get", "update", "-q"], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        subprocess.run(install, check=True, stdout=subprocess.DEVNULL,
                       env=env)


def render(page):
    """Renders one page; checks exit status and that stderr is empty."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", "-Tutf8", page],
                       capture_output=True, text=True, env=env, timeout=60)
    check(r.returncode == 0, "%s: man exited %d" % (page, r.returncode))
    check(r.stderr == "", "%s: warnings:\n%s" % (page, r.stderr))
    check(len(r.stdout) > 1000, "%s: rendered text too short" % page)


def synopsis(page):
    """{command: set of long options} from the SYNOPSIS of spfgate.8."""
    text = open(page, encoding="utf-8").read()
    m = re.search(r"^\.SH SYNOPSIS\n(.*?)^\.SH ", text, re.S | re.M)
    check(m is not None, "spfgate.8 has a SYNOPSIS")
    commands = {}
    current = None
    for line in (m.group(1) if m else "").splitlines():
        sy = re.match(r'^\.SY\s+"?spfgate(?:\s+([a-z]+))?"?\s*$', line)
        if sy:
            current = sy.group(1) or "help"
            commands[current] = set()
            continue
        if current is None:
            continue
        for opt in re.findall(r"\\-\\-([a-z][a-z-]*(?:\\-[a-z]+)*)", line):
            commands[current].add("--" + opt.replace("\\-", "-"))
    # "spfgate help|-h|--help" is the help command itself, not an option.
    commands.get("help", set()).discard("--help")
    return commands


def run(spfgate, *args):
    """Runs spfgate; returns (status, stdout)."""
    r = subprocess.run([spfgate, *args], capture_output=True, text=True,
                       timeout=30)
    return r.returncode, r.stdout


def help_commands(spfgate):
    """The commands listed by `spfgate --help`."""
    status, out = run(spfgate, "--help")
    check(status == 0, "spfgate --help exits 0 (got %d)" % status)
    lines = out.split("commands:\n", 1)
    check(len(lines) == 2, "spfgate --help has a commands: list")
    names = set()
    for line in (lines[1] if len(lines) == 2 else "").splitlines():
        m = re.match(r"^\s+([a-z]+)\s", line)
        if m:
            names.add(m.group(1))
    return names


def check_version(spfgate, pages):
    """Each page's .TH names the version the program reports."""
    status, out = run(spfgate, "version")
    check(status == 0 and out.startswith("spfgate "),
          "spfgate version prints 'spfgate X' (got %r)" % out)
    for page in pages:
        text = open(page, encoding="utf-8").read()
        th = re.search(r'^\.TH .*"(spfgate [0-9][^"]*)"', text, re.M)
        check(th is not None and th.group(1) == out.strip(),
              "%s: .TH version %s, spfgate version %r"
              % (page, th.group(1) if th else None, out.strip()))


def check_options(spfgate, command, documented):
    """The long options of one command, page against its --help."""
    status, out = run(spfgate, command, "-h")
    check(status == 0, "spfgate %s -h exits 0 (got %d)" % (command, status))
    shown = set(re.findall(r"--[a-z][a-z-]*", out)) - {"--help"}
    check(documented == shown,
          "spfgate %s: options in spfgate.8 %s, in -h %s"
          % (command, sorted(documented), sorted(shown)))


def main():
    spfgate, packaging = sys.argv[1], sys.argv[2]
    ensure_man()
    pages = sorted(glob.glob(os.path.join(packaging, "*.[1-8]")))
    check(any(p.endswith("spfgate.8") for p in pages), "spfgate.8 exists")
    check(any(p.endswith("spfgate.conf.5") for p in pages),
          "spfgate.conf.5 exists")
    for page in pages:
        render(page)
    documented = synopsis(os.path.join(packaging, "spfgate.8"))
    commands = set(documented) - {"help"}
    check(len(commands) >= 5, "SYNOPSIS names the commands: %s"
          % sorted(commands))
    listed = help_commands(spfgate)
    check(commands == listed,
          "commands in spfgate.8 %s, in spfgate --help %s"
          % (sorted(commands), sorted(listed)))
    check_version(spfgate, pages)
    for command in sorted(commands & listed):
        check_options(spfgate, command, documented[command])
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
