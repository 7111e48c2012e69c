package format

import "strconv"

// Average is the value bpftrace prints for avg() and the average of
// stats(): sum / count in 64-bit signed integer arithmetic, truncated
// toward zero (avg(1), avg(2) is 1; avg(-1), avg(-2) is -1; avg(-1),
// avg(2) is 0), and 0 when count is 0. bpftrace 0.17 and 0.26 agree.
func Average(count, sum int64) int64 {
	if count == 0 {
		return 0
	}
	if count == -1 {
		return -sum // avoids the MinInt64 / -1 trap; count is never negative
	}
	return sum / count
}

// FormatStats renders the value of one stats() entry in style s, with the
// average divided by div (as print(@s, top, div) does in 0.24+; pass 1
// for no division):
//
//	Style017:    count 2, average 7, total 15
//	StyleLatest: { .count = 2, .average = 7, .total = 15 }
//
// The latest layout is that of bpftrace 0.24.0 to 0.26.1, where stats()
// values became a record printed like a struct.
func (s Style) FormatStats(count, sum int64, div uint64) string {
	if div == 0 {
		div = 1
	}
	avg := strconv.FormatInt(divInt(Average(count, sum), div), 10)
	c := strconv.FormatInt(count, 10)
	t := strconv.FormatInt(sum, 10)
	if s == Style017 {
		return "count " + c + ", average " + avg + ", total " + t
	}
	return "{ .count = " + c + ", .average = " + avg + ", .total = " + t + " }"
}
