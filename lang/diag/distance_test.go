package diag

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"pid", "pid", 0},
		{"pdi", "pid", 1},
		{"commm", "comm", 1},
		{"nope", "ntop", 2},
		{"", "abc", 3},
		{"filname", "filename", 1},
		{"task_strct", "task_struct", 1},
	}
	for _, tt := range tests {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
