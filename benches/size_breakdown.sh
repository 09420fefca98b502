#!/usr/bin/env bash
# Size of a shared library by crate (cargo-bloat style), from the symbol table of an
# UNSTRIPPED build: `benches/size_breakdown.sh path/to/libxo_tracker.so [top]`.
# A symbol is attributed to the first path segment of its demangled name (generic instances of
# core/alloc/std code count as core/alloc/std); ring's C and assembly symbols (ring_core_*,
# ecp_nistz256_*) count as ring. Sections that hold no sized symbols (.eh_frame, relocations,
# exception tables) are listed by `size -A` instead.
set -euo pipefail
so=$1
top=${2:-20}
nm -C -S --defined-only "$so" | awk -v top="$top" '
function hex(s,   i, c, v) {
  v = 0
  s = tolower(s)
  for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
  return v
}
NF >= 4 {
  size = hex($2)
  name = $0
  sub(/^[0-9a-fA-F]+ [0-9a-fA-F]+ . /, "", name)
  n = name
  while (n ~ /^(<|&|\*|dyn |mut |const |\(|\[)/) sub(/^(<|&|\*|dyn |mut |const |\(|\[)/, "", n)
  # `<T as tokio::..>`: a generic type parameter; count the crate of the trait.
  if (n ~ /^[A-Za-z0-9_]+ as /) { sub(/^[A-Za-z0-9_]+ as /, "", n); while (n ~ /^(<|&|\*|dyn )/) sub(/^(<|&|\*|dyn )/, "", n) }
  if (n ~ /^(ring_core_|ecp_nistz256|GFp_|x25519_|LIMBS_|bn_|aes_|gcm_|ChaCha|CRYPTO_)/) crate = "ring (C/asm)"
  else if (index(n, "::") > 0) crate = substr(n, 1, index(n, "::") - 1)
  else crate = "[other: libc glue, statics]"
  total[crate] += size
  all += size
}
END {
  for (c in total) printf "%10d %6.1f%%  %s\n", total[c], 100 * total[c] / all, c
  printf "%10d %6.1f%%  %s\n", all, 100, "(all sized symbols)" > "/dev/stderr"
}' 2>/tmp/size_breakdown_total.$$ | sort -rn | head -n "$top"
cat /tmp/size_breakdown_total.$$
rm -f /tmp/size_breakdown_total.$$
