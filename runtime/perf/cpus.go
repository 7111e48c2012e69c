package perf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// onlineCPUsFile lists the CPUs the kernel is scheduling on.
const onlineCPUsFile = "/sys/devices/system/cpu/online"

// OnlineCPUs returns the online CPUs, in increasing order, from
// /sys/devices/system/cpu/online.
func OnlineCPUs() ([]int, error) {
	data, err := os.ReadFile(onlineCPUsFile)
	if err != nil {
		return nil, fmt.Errorf("listing online CPUs: %w", err)
	}
	cpus, err := ParseCPUList(string(data))
	if err != nil {
		return nil, fmt.Errorf("listing online CPUs: %s: %w", onlineCPUsFile, err)
	}
	return cpus, nil
}

// ParseCPUList parses the kernel's CPU list format ("0-3,5,7-8\n", see
// Documentation/admin-guide/cputopology.rst) into CPU numbers in the order
// written.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty CPU list")
	}
	var cpus []int
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("bad CPU list %q: %q", s, part)
		}
		last := first
		if isRange {
			last, err = strconv.Atoi(hi)
			if err != nil || last < first {
				return nil, fmt.Errorf("bad CPU list %q: %q", s, part)
			}
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// firstOnlineCPU returns the lowest online CPU, or 0 if they cannot be read;
// bpftrace makes the same choice for interval probes.
func firstOnlineCPU() int {
	cpus, err := OnlineCPUs()
	if err != nil || len(cpus) == 0 {
		return 0
	}
	return cpus[0]
}
