package stdlib

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
)

// ptonFunc is pton("addr"): an IP address literal converted at compile time
// to its bytes in network order, a uint8[4] or uint8[16]. Its value exists
// only in the checker (Func.Bytes): it folds casts to an integer of the same
// size, constant indexes and comparisons with other constants, and hands
// the bytes to ntop() and to comparisons with arrays read at run time.
func ptonFunc() *Func {
	return &Func{
		Name: "pton", Help: `pton("1.2.3.4") or pton("::1"): an IP address as a 4- or 16-byte array in network order, made at compile time`,
		Kind: Value, MinArgs: 1, MaxArgs: 1,
		Check: func(a *Args) (*types.Type, error) {
			if a.Strs[0] == nil {
				return nil, argErr(0, `pton() takes an address as a string literal, e.g. pton("127.0.0.1"), not %s`, a.Types[0])
			}
			b, err := parseIPLiteral(*a.Strs[0])
			if err != nil {
				return nil, argErr(0, "pton(): %v", err)
			}
			return &types.Type{Kind: types.Array, Elem: types.Uint8, Len: len(b), Size: len(b)}, nil
		},
		Bytes: func(a *Args) []byte {
			b, _ := parseIPLiteral(*a.Strs[0])
			return b
		},
	}
}

// parseIPLiteral converts an IPv4 or IPv6 address to its 4 or 16 bytes in
// network order. As in bpftrace the family follows from the text, so an
// address with a ':' is IPv6 even when it embeds an IPv4 one
// ("::ffff:1.2.3.4"). Like inet_pton, it takes no zone ("fe80::1%eth0") and
// no octets with leading zeros.
func parseIPLiteral(s string) ([]byte, error) {
	if !strings.ContainsAny(s, ".:") {
		return nil, fmt.Errorf("%q is not an IPv4 or IPv6 address: it has neither '.' nor ':'", s)
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || addr.Zone() != "" {
		return nil, fmt.Errorf("%q is not a valid IPv4 or IPv6 address", s)
	}
	if addr.Is4() {
		b := addr.As4()
		return b[:], nil
	}
	b := addr.As16()
	return b[:], nil
}

// emitConstInet is emitNtop for an address known at compile time (pton()):
// the inet value {u64 family; 16 address bytes} at R1 is stored from
// immediates, with the family given in R2 or, by default, told by the
// address's length.
func emitConstInet(e Emitter, a *Args, addr []byte) {
	if len(a.Types) == 2 {
		e.Emit(asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord))
	} else {
		family := int32(unix.AF_INET)
		if len(addr) == 16 {
			family = unix.AF_INET6
		}
		e.Emit(asm.Mov.Imm(asm.R0, family), asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord))
	}
	for i := 0; i+4 <= len(addr); i += 4 {
		// A word store writes its value in native byte order, so reading
		// the bytes in that order stores them unchanged; int32 keeps the
		// immediate in range.
		v := int32(binary.NativeEndian.Uint32(addr[i:]))
		e.Emit(asm.StoreImm(asm.R1, int16(8+i), int64(v), asm.Word))
	}
}
