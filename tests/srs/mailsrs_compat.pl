#!/usr/bin/perl
# mailsrs_compat.pl - relay/srs.c against Mail::SRS, the reference SRS
# implementation (Debian's libmail-srs-perl), in both directions.
#
# Usage: mailsrs_compat.pl PATH/TO/srs_batch
#
# For several configurations (hash length, separator, max age, secrets)
# and several dates, 500 pseudo-random senders per configuration (plain
# addresses with odd characters and mixed case, SRS0 and SRS1 addresses of
# other forwarders, addresses already in the bounce domain) go through
#   - Mail::SRS->forward and our srs_forward: the strings must be equal;
#   - Mail::SRS->reverse and our srs_reverse of every address Mail::SRS
#     made, on the day, on the last valid day and the day after (expired
#     for SRS0), case-mangled, with one hash character changed, and in
#     the URL-safe base64 alphabet (ours only: Mail::SRS never knew it);
#   - Mail::SRS->reverse of the addresses we made;
#   - secret rotation: addresses signed by a Mail::SRS that only knows the
#     old secret verify with our "new, old" file; an unknown secret fails.
# Mail::SRS reads the clock through time(): it is overridden below
# (CORE::GLOBAL::time) so both sides use exactly the same "now".  A last
# round uses the real clock on both sides (retried once if the day
# changed in between).
#
# srs_batch takes requests on stdin (see srs_batch.c).  Prints
# "N passed, M failed" and exits non-zero on any failure.
use strict;
use warnings;

our $NOW;
BEGIN {
	no warnings 'once';
	*CORE::GLOBAL::time = sub () { defined $NOW ? $NOW : CORE::time() };
}
use Mail::SRS;
use File::Temp qw(tempdir);

my $BATCH = shift or die "usage: $0 PATH/TO/srs_batch\n";
my $BOUNCE = 'Bounce.Example.NET';
my $PER_CONFIG = 500;
my $DAY = 86400;
my ($passed, $failed, $shown) = (0, 0, 0);

# Mail::SRS warns when it accepts a case-smashed hash; that is expected.
$SIG{__WARN__} = sub { warn @_ unless $_[0] =~ /Case insensitive hash/ };

my @configs = (
	{ secrets => ['Jqc0Ctl8wl7u4rOp+Hkq9w'], hash => 4, sep => '=', age => 21 },
	{ secrets => ['new secret', 'old secret'], hash => 8, sep => '+', age => 30 },
	{ secrets => ['x' x 200], hash => 27, sep => '-', age => 7 },
	{ secrets => ["s\xc3\xa9cret with spaces ", 'b'], hash => 5, sep => '=', age => 1 },
	{ secrets => ['postsrsd-like/AbC=='], hash => 10, sep => '=', age => 511 },
);
# Day numbers chosen to cross the 1024-day cycle: 20480 = 20 * 1024.
my @days = (19675, 20479, 20480, 20480 + 1023);

sub check {
	my ($ok, $what) = @_;
	if ($ok) {
		$passed++;
		return 1;
	}
	$failed++;
	print STDERR "FAIL $what\n" if $shown++ < 30;
	return 0;
}

my $WORK = tempdir('srscompat.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Runs requests (array of [type, now, args...]) through srs_batch.
sub batch {
	my ($cfg, @req) = @_;
	my $secrets = "$WORK/secrets";
	open(my $s, '>', $secrets) or die "$secrets: $!";
	print $s map { "$_\n" } @{ $cfg->{secrets} };
	close($s);
	chmod(0600, $secrets) or die "chmod: $!";
	open(my $in, '>', "$WORK/in") or die "in: $!";
	print $in join("\t", @$_), "\n" for @req;
	close($in);
	my @cmd = ($BATCH, '--secrets', $secrets, '--hash-length', $cfg->{hash},
		'--max-age', $cfg->{age}, '--separator', $cfg->{sep});
	system("@cmd < $WORK/in > $WORK/out") == 0
		or die "srs_batch failed: $?\n";
	open(my $out, '<', "$WORK/out") or die "out: $!";
	chomp(my @lines = <$out>);
	close($out);
	die "srs_batch answered " . scalar(@lines) . " of " . scalar(@req) . "\n"
		unless @lines == @req;
	return @lines;
}

sub mailsrs {
	my ($cfg, @secrets) = @_;
	return Mail::SRS->new(Secret => @secrets ? [@secrets] : $cfg->{secrets},
		MaxAge => $cfg->{age}, HashLength => $cfg->{hash},
		Separator => $cfg->{sep});
}

# Mail::SRS's answer in srs_batch's words.
sub perl_forward {
	my ($srs, $sender, $domain) = @_;
	my $r = eval { $srs->forward($sender, $domain) };
	return "ERR" unless defined $r;
	return ($r eq $sender ? "SAME\t" : "OK\t") . $r;
}

sub perl_reverse {
	my ($srs, $addr) = @_;
	my $r = eval { $srs->reverse($addr) };
	return defined $r ? "OK\t$r" : "ERR";
}

sub ours_ok { my ($got) = @_; $got =~ s/^ERR\t.*/ERR/; return $got }

my @LOCAL = ('a' .. 'z', 'A' .. 'Z', '0' .. '9', split(//, "._+-='!#\$%&*/?^`{|}~"));
sub rnd_local {
	my $n = 1 + int(rand(24));
	my $s = join('', map { $LOCAL[int(rand(@LOCAL))] } 1 .. $n);
	$s .= "\xc3\xa9t\xc3\xa9" if rand() < 0.05;	# UTF-8 bytes
	return $s;
}

sub rnd_label {
	my @c = ('a' .. 'z', '0' .. '9');
	my $n = 1 + int(rand(12));
	my $l = join('', map { $c[int(rand(@c))] } 1 .. $n);
	$l = substr($l, 0, 1) . '-' . substr($l, 1) if $n > 2 && rand() < 0.2;
	return $l;
}

sub rnd_domain {
	my $d = join('.', map { rnd_label() } 0 .. int(rand(3)));
	$d .= '.' . (qw(com net org de example))[int(rand(5))];
	$d = uc($d) if rand() < 0.1;
	$d = ucfirst($d) if rand() < 0.1;
	return $d;
}

sub rnd_sep { return (qw(= + -))[int(rand(3))] }

# One sender of a random kind, as an SMTP client would give it.
sub rnd_sender {
	my $r = rand();
	my $plain = rnd_local() . '@' . rnd_domain();
	return $plain if $r < 0.50;
	my $fw = Mail::SRS->new(Secret => ['their secret'], Separator => rnd_sep(),
		HashLength => 4 + int(rand(4)));
	my $srs0 = $fw->forward($plain, rnd_domain());
	return $srs0 if $r < 0.65;
	return lcfirst(lc(substr($srs0, 0, 4)) . substr($srs0, 4)) if $r < 0.70;
	my $fw2 = Mail::SRS->new(Secret => ['another'], Separator => rnd_sep());
	my $srs1 = $fw2->forward($srs0, rnd_domain());
	return $srs1 if $r < 0.82;
	return $fw2->forward($srs1, rnd_domain()) if $r < 0.88;
	my $ours = $r < 0.94 ? $BOUNCE : lc($BOUNCE);
	return rnd_local() . '@' . $ours;
}

# Changes one hash character so that it differs even ignoring case.
sub tamper {
	my ($addr) = @_;
	return undef unless $addr =~ /^(SRS[01][-+=])([^=]+)(=.*)$/i;
	my ($tag, $hash, $rest) = ($1, $2, $3);
	my $i = int(rand(length($hash)));
	my $c = substr($hash, $i, 1);
	my $d = lc($c) eq 'q' ? 'z' : 'q';
	substr($hash, $i, 1, $d);
	return $tag . $hash . $rest;
}

sub url_safe {
	my ($addr) = @_;
	return undef unless $addr =~ /^(SRS[01][-+=])([^=]+)(=.*)$/;
	my ($tag, $hash, $rest) = ($1, $2, $3);
	return undef unless $hash =~ tr{+/}{-_};
	return $tag . $hash . $rest;
}

sub mangle_case {
	my ($addr, $how) = @_;
	my ($local, $domain) = $addr =~ /^(.*)@([^@]+)$/;
	return ($how ? uc($local) : lc($local)) . '@' . uc($domain);
}

# Forward with both, then reverse what each made, in every variation.
sub run_config {
	my ($cfg, $day) = @_;
	my $now = $day * $DAY + 12345;
	my $name = "hash=$cfg->{hash} sep=$cfg->{sep} age=$cfg->{age} day=$day";
	my @senders = map { rnd_sender() } 1 .. $PER_CONFIG;
	local $NOW = $now;
	my $srs = mailsrs($cfg);
	my @theirs = map { perl_forward($srs, $_, $BOUNCE) } @senders;
	my @ours = batch($cfg, map { ['F', $now, $_, $BOUNCE] } @senders);
	my (@rev, @want);
	for my $i (0 .. $#senders) {
		check($ours[$i] eq $theirs[$i], "$name: forward $senders[$i]: ours '$ours[$i]', Mail::SRS '$theirs[$i]'");
		next unless $theirs[$i] =~ /^OK\t(.*)$/;
		my $a = $1;
		push @rev, reverse_cases($cfg, $srs, $a, $now);
	}
	my @got = batch($cfg, map { ['R', $_->{now}, $_->{addr}] } @rev);
	for my $i (0 .. $#rev) {
		my $c = $rev[$i];
		check(ours_ok($got[$i]) eq $c->{want},
			"$name: reverse $c->{what} $c->{addr}: ours '$got[$i]', want '$c->{want}'");
	}
	# Mail::SRS reverses what we made (same strings, but say it).
	for my $i (0 .. $#senders) {
		next unless $ours[$i] =~ /^OK\t(.*)$/;
		my $ours_addr = $1;
		my $r = perl_reverse($srs, $ours_addr);
		check($r ne 'ERR', "$name: Mail::SRS cannot reverse ours $ours_addr");
		my $expect = $senders[$i];
		if ($expect =~ /^SRS1[-+=][^=]*=([^=]+)=(.*)@/i) {
			$expect = "SRS0$2\@$1";
		} elsif ($expect =~ /^SRS0([-+=].*)@([^@]+)$/i) {
			$expect = "SRS0$1\@$2";
		}
		check($r eq "OK\t$expect", "$name: round trip $senders[$i]: Mail::SRS gives '$r', want '$expect'");
	}
}

# The reversal requests for one address Mail::SRS made, with the answer
# Mail::SRS gives (or the one documented, for URL-safe hashes).
sub reverse_cases {
	my ($cfg, $srs, $a, $now) = @_;
	my @c;
	my $add = sub {
		my ($what, $addr, $when) = @_;
		local $NOW = $when;
		push @c, { what => $what, addr => $addr, now => $when,
			want => perl_reverse($srs, $addr) };
	};
	my $last = $now + $cfg->{age} * $DAY;
	$add->('today', $a, $now);
	$add->('last valid day', $a, $last);
	$add->('day after max age', $a, $last + $DAY);
	$add->('a day early', $a, $now - $DAY);
	$add->('upper-cased', mangle_case($a, 1), $now);
	$add->('lower-cased', mangle_case($a, 0), $now);
	my $t = tamper($a);
	$add->('tampered', $t, $now) if defined $t;
	my $u = url_safe($a);
	push @c, { what => 'url-safe', addr => $u, now => $now,
		want => perl_reverse($srs, $a) } if defined $u;
	return @c;
}

# Old secret signs, our "new, old" verifies; an unknown secret does not.
sub run_rotation {
	my $cfg = $configs[1];
	my $name = 'rotation';
	local $NOW = $days[0] * $DAY;
	my $old = mailsrs($cfg, $cfg->{secrets}[1]);
	my $stranger = mailsrs($cfg, 'stranger');
	my $full = mailsrs($cfg);
	my (@req, @want);
	for (1 .. 100) {
		my $s = rnd_local() . '@' . rnd_domain();
		my $a = $old->forward($s, $BOUNCE);
		push @req, ['R', $NOW, $a];
		push @want, perl_reverse($full, $a);
		check($want[-1] eq "OK\t$s", "$name: Mail::SRS itself rotates $a");
		push @req, ['R', $NOW, $stranger->forward($s, $BOUNCE)];
		push @want, 'ERR';
	}
	my @got = batch($cfg, @req);
	check(ours_ok($got[$_]) eq $want[$_], "$name: $req[$_][2]: ours '$got[$_]', want '$want[$_]'")
		for 0 .. $#req;
}

# Both sides on the real clock; retried once if the day turned meanwhile.
sub run_real_clock {
	my $cfg = $configs[0];
	my @senders = map { rnd_local() . '@' . rnd_domain() } 1 .. 50;
	for my $try (1 .. 2) {
		my $day = int(CORE::time() / $DAY);
		my $srs = mailsrs($cfg);
		my @theirs = map { perl_forward($srs, $_, $BOUNCE) } @senders;
		my @ours = batch($cfg, map { ['F', '-', $_, $BOUNCE] } @senders);
		next if int(CORE::time() / $DAY) != $day && $try == 1;
		check($ours[$_] eq $theirs[$_], "real clock: $senders[$_]: ours '$ours[$_]', Mail::SRS '$theirs[$_]'")
			for 0 .. $#senders;
		return;
	}
}

srand(20240229);
for my $cfg (@configs) {
	run_config($cfg, $_) for @days;
}
run_rotation();
run_real_clock();
print "$passed passed, $failed failed\n";
exit($failed != 0 || $passed == 0 ? 1 : 0);
