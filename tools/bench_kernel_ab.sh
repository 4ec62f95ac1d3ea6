#!/bin/sh
# bench_kernel_ab.sh: two builds of the convolution kernels side by side,
# for a change's before and after on this shared machine. Runs two
# bench_kernel binaries (tools/bench_kernel.c linked with each build's
# librnrt.a) in turns, ROUNDS times, and prints per layer shape the median
# over rounds of each one's GFLOP/s at 1 and 2 threads, their ratio, and
# each network's conv time. Figures only; asserts nothing. With BEST=1,
# the fastest round instead of the median: when other work on the machine
# keeps a second core busy, 2-thread figures are bimodal.
#
#   tools/bench_kernel_ab.sh A/bench_kernel B/bench_kernel [rounds] [layer]
#
# e.g. with a worktree of the old commit built into old/build:
#   make build/bench_kernel && (cd old && make build/bench_kernel)
#   tools/bench_kernel_ab.sh old/build/bench_kernel build/bench_kernel 5
A=$1 B=$2 N=${3:-5} F=${4:-}
[ -x "$A" ] && [ -x "$B" ] || {
    echo "usage: bench_kernel_ab.sh A/bench_kernel B/bench_kernel [rounds] [layer]" >&2
    exit 2
}
D=$(mktemp -d) || exit 1
trap 'rm -rf "$D"' EXIT
i=0
while [ "$i" -lt "$N" ]; do # alternate which goes first
    if [ $((i % 2)) -eq 0 ]; then first=$A second=$B fa=A fb=B; else first=$B second=$A fa=B fb=A; fi
    "$first" 102 0.2 $F >"$D/$fa.$i" || exit 1
    "$second" 102 0.2 $F >"$D/$fb.$i" || exit 1
    i=$((i + 1))
done
/usr/bin/python3 - "$D" "${BEST:-0}" <<'PY'
import glob, re, statistics as st, sys
d, best = sys.argv[1], sys.argv[2] == '1'
pick = min if best else st.median
row = re.compile(r'^(\S.{17}) +(\d+) +([\d.]+) +\d+ \| +([\d.]+) +[\d.]+ +\d+% \| +([\d.]+)')
def parse(f):
    net, out = None, {}
    for line in open(f):
        m = row.match(line)
        if m:
            out[(net, m.group(1).strip())] = (int(m.group(2)), float(m.group(3)),
                                              float(m.group(4)), float(m.group(5)))
        elif line.strip() and not line.startswith(('layer', 'scaling')) and ' convs, ' not in line:
            net = line.strip()
    return out
runs = {s: [parse(f) for f in sorted(glob.glob(d + '/' + s + '.*'))] for s in 'AB'}
print('%-18s %7s %7s %5s | %7s %7s %5s   GFLOP/s, %s of %d rounds'
      % ('layer', 'A 1T', 'B 1T', 'B/A', 'A 2T', 'B 2T', 'B/A',
         'the fastest' if best else 'medians', len(runs['A'])))
tot, last = {}, None
for key in runs['A'][0]:
    net, name = key
    if net != last:
        print(net)
        last = net
    n, mflop = runs['A'][0][key][:2]
    med = {(s, t): pick(r[key][2 + t] for r in runs[s]) for s in 'AB' for t in (0, 1)}
    print('%-18s %7.1f %7.1f %5.2f | %7.1f %7.1f %5.2f' % (
        name, mflop / med['A', 0], mflop / med['B', 0], med['A', 0] / med['B', 0],
        mflop / med['A', 1], mflop / med['B', 1], med['A', 1] / med['B', 1]))
    t = tot.setdefault(net, {k: 0.0 for k in med})
    for k in med:
        t[k] += n * med[k]
for net, t in tot.items():
    print('%s: 1 thread %.3f -> %.3f ms (%.2fx), 2 threads %.3f -> %.3f ms (%.2fx)' % (
        net, t['A', 0], t['B', 0], t['A', 0] / t['B', 0], t['A', 1], t['B', 1],
        t['A', 1] / t['B', 1]))
PY
