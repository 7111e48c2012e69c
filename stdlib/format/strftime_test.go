package format

import (
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2026, time.March, 7, 14, 5, 9, 123456789, time.UTC)
	tests := []struct{ layout, want string }{
		{"%H:%M:%S", "14:05:09"},
		{"%Y-%m-%d %T", "2026-03-07 14:05:09"},
		{"%y %e %j %I%p", "26  7 066 02PM"},
		{"%a %A %b %B", "Sat Saturday Mar March"},
		{"%H:%M:%S.%f", "14:05:09.123456"},
		{"%F %R %Z %z %%", "2026-03-07 14:05 UTC +0000 %"},
		{"100%", "100%"},
		{"%q stays", "%q stays"},
	}
	for _, tt := range tests {
		if got := Strftime(tt.layout, at); got != tt.want {
			t.Errorf("Strftime(%q) = %q, want %q", tt.layout, got, tt.want)
		}
	}
}
