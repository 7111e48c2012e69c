package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// runWhileAttached runs a script, calls act once its probes are attached,
// and stops the run when act returns.
func runWhileAttached(t *testing.T, name, script string, params []string, act func() error) string {
	t.Helper()
	s, err := runtime.Compile(name, script, runtime.CompileOptions{Params: params})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	var actErr error
	if _, err := s.Run(ctx, runtime.RunOptions{
		Stdout: &stdout,
		Stderr: &stderr,
		OnAttached: func() {
			actErr = act()
			cancel()
		},
	}); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	if actErr != nil {
		t.Fatal(actErr)
	}
	return stdout.String()
}

// TestPtonMatchesArraysReadAtRunTime compares pton() constants with the
// addresses of TCP connections this test makes to itself: arrays in a
// tracepoint record (args) and in kernel memory (struct sock), 4 and 16
// bytes long, in predicates, if conditions and values. ntop() of an array
// in memory prints an IPv4-mapped address as inet_ntop does.
func TestPtonMatchesArraysReadAtRunTime(t *testing.T) {
	kerneltest.Require(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// TCP_SYN_SENT (2) is the connecting side's first state change.
	const script = `
tracepoint:sock:inet_sock_set_state /args.dport == $1 && args.newstate == 2/ {
	$sk = (struct sock *)args.skaddr;
	if (args.family == 2) {
		printf("v4 %d %d %d %d %d\n", args.daddr == pton("127.0.0.1"), args.daddr != pton("127.0.0.1"),
			args.daddr == pton("127.0.0.2"), (args.saddr) == pton("127.0.0.1"),
			args.daddr_v6 == pton("::ffff:127.0.0.1"));
		if (args.daddr != pton("127.0.0.1")) {
			printf("if: differs\n");
		} else {
			printf("if: equal\n");
		}
	} else {
		printf("v6 %s %d %d %d\n", ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8),
			$sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8 == pton("::ffff:127.0.0.1"),
			$sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32 == pton("::ffff:127.0.0.1"),
			pton("::1") == $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
}
tracepoint:sock:inet_sock_set_state /args.dport == $1 && args.newstate == 2 && args.family == 2 && args.daddr == pton("127.0.0.1")/ {
	printf("predicate: %d\n", ((struct sock *)args.skaddr)->__sk_common.skc_daddr == (uint32)pton("127.0.0.1"));
}
`
	v6 := true
	out := runWhileAttached(t, "pton_arrays.gt", script, []string{strconv.Itoa(port)}, func() error {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			return err
		}
		c.Close()
		// An IPv6 socket connecting to an IPv4-mapped address keeps that
		// address in skc_v6_daddr. Go's tcp6 sockets are IPv6-only, so
		// this one is made by hand.
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if errors.Is(err, unix.EAFNOSUPPORT) {
			v6 = false
			return nil
		}
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Connect(fd, &unix.SockaddrInet6{Port: port, Addr: [16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1}})
	})
	got := strings.Split(strings.TrimSpace(out), "\n")
	// The two connections' events may come from different CPUs.
	slices.Sort(got)
	want := []string{"if: equal", "predicate: 1", "v4 1 0 0 1 1"}
	if v6 {
		want = append(want, "v6 ::ffff:127.0.0.1 1 1 0")
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant (sorted)\n%s", out, strings.Join(want, "\n"))
	}
}
