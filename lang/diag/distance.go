package diag

// EditDistance is the optimal-string-alignment distance between a and b,
// in bytes: insertions, deletions, substitutions and swaps of two adjacent
// bytes each count one, so the typo "pdi" is one edit from "pid". The "did
// you mean" hints of the checker and of BTF lookups rank candidates by it.
func EditDistance(a, b string) int {
	// rows[i][j] is the distance between a[:i] and b[:j]; three rows are
	// enough for the swap rule.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// CloseEnough reports whether a name at distance d from what the user wrote
// (n bytes long) is worth suggesting: one edit for short names, two for
// names of five bytes or more.
func CloseEnough(d, n int) bool {
	if n >= 5 {
		return d <= 2
	}
	return d <= 1
}
