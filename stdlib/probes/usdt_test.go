package probes

import (
	"debug/elf"
	"errors"
	"slices"
	"testing"

	"github.com/gotrace/gotrace/runtime/userbin"
)

// TestDescribeUSDT checks -lv's lines for a USDT probe's notes: one per
// argument with its type and place; a probe at several places gives each
// place that differs.
func TestDescribeUSDT(t *testing.T) {
	note := func(args string) userbin.Note {
		a, err := userbin.ParseArgs(args, elf.EM_X86_64)
		return userbin.Note{ArgText: args, Args: a, Err: err}
	}
	tests := []struct {
		name  string
		notes []userbin.Note
		want  []string
	}{
		{"no arguments", []userbin.Note{note("")}, nil},
		{"every size", []userbin.Note{note("-1@%dil 2@%ax -4@-20(%rbp) 8@(%rax,%rdx,8) -8@$-2 4@counter(%rip)")}, []string{
			"arg0: int8 (-1@%dil)",
			"arg1: uint16 (2@%ax)",
			"arg2: int32 (-4@-20(%rbp))",
			"arg3: uint64 (8@(%rax,%rdx,8))",
			"arg4: int64 (-8@$-2)",
			"arg5: uint32 (4@counter(%rip))",
		}},
		{"old note without sizes", []userbin.Note{note("%rdi")}, []string{"arg0: uint64 (%rdi)"}},
		{"two places", []userbin.Note{note("-4@%edi 8@%rsi"), note("-4@%ebx 8@%rsi")}, []string{
			"arg0: int32 (-4@%ebx or -4@%edi)",
			"arg1: uint64 (8@%rsi)",
		}},
		{"two places, two types", []userbin.Note{note("8@total(%rip)"), note("-4@counter(%rip)")}, []string{
			"arg0: int32 or uint64 (-4@counter(%rip) or 8@total(%rip))",
		}},
		{"undecodable", []userbin.Note{note("8@%rdi 4@%xmm0")}, []string{
			`(cannot be attached: argument 1 ("4@%xmm0"): unknown register "%xmm0")`,
		}},
		{"bad semaphore", []userbin.Note{{ArgText: "", Err: errors.New("its semaphore at 0x10 is in no loaded part of the file")}}, []string{
			"(cannot be attached: its semaphore at 0x10 is in no loaded part of the file)",
		}},
	}
	for _, tt := range tests {
		if got := describeUSDT(tt.notes); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
