// layout.c prints what GCC makes of the definitions lang/cdecl's
// TestLayoutMatchesGCC lays out: sizes, alignments, member offsets and, for
// bitfields, the byte, bit and width. The test takes every one-line
// struct, union and enum definition below as a gotrace script, and keeps
// this program's output as its expectation; when gcc is installed it also
// checks that the expectation is still what this program prints:
//
//	gcc -std=gnu11 -w -o /tmp/layout testdata/cdecl/layout.c && /tmp/layout
//
// The typedefs and struct kernel_thing stand for the kernel types the
// test's fake resolver knows.
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef signed char s8;
struct kernel_thing { u64 a; u32 b; };

#define S(T) printf("%s size=%zu align=%zu\n", #T, sizeof(T), _Alignof(T));
#define F(T, f) printf("  %s @%zu\n", #f, offsetof(T, f));
#define B(T, f) do { T x; memset(&x, 0, sizeof x); x.f = -1; \
	unsigned char *p = (unsigned char *)&x; int first = -1, n = 0; \
	for (size_t i = 0; i < sizeof x * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (first < 0) first = i; n++; } \
	printf("  %s @%d.%d:%d\n", #f, first / 8, first % 8, n); } while (0)
/* BW is B for a bitfield as wide as its type, which is an ordinary member. */
#define BW(T, f) do { T x; memset(&x, 0, sizeof x); x.f = -1; \
	unsigned char *p = (unsigned char *)&x; int first = -1; \
	for (size_t i = 0; i < sizeof x * 8; i++) if (p[i / 8] >> (i % 8) & 1) { first = i; break; } \
	printf("  %s @%d\n", #f, first / 8); } while (0)

/* basic */
struct bar { int x; };
struct foo { int a; char name[16]; struct bar *next; unsigned long flags; };
union u { int i; char c[4]; };
enum color { RED, GREEN = 5, BLUE };
struct nested { struct foo f; int arr[3]; u64 x; uint8_t y : 3; uint8_t z : 5; };
/* padding */
struct pad { char a; short b; char c; int d; char e; long f; char g; };
struct tail { long l; char c; };
struct shorts { short a; char b; };
/* bitfields */
struct b1 { char a; int b : 30; };
struct b2 { char a; int b : 24; };
struct b3 { unsigned a : 3, : 0, b : 4; char c; long d : 40; long e : 30; };
struct b4 { char a; char b : 4; short c : 10; };
struct b5 { _Bool f : 1; unsigned long long g : 64; int : 5; int h : 27; };
struct b6 { char a; int : 4; };
struct b7 { char a; int : 0; char b; };
struct b8 { signed char s : 3; unsigned short u : 13; enum color c : 4; long long x : 1; };
union ub { int x : 3; char c; unsigned long long y : 33; };
union ub2 { char c; int : 20; };
/* anonymous members */
struct an { int a; union { int b; struct { char c; long d; }; }; char e; };
union anu { struct { short lo, hi; }; int all; };
/* arrays */
struct md { int m[2][3]; char s[4][8]; unsigned char bytes[5]; short tail; };
struct ch { signed char s[4]; unsigned char u[4]; s8 i8[2]; const char cs[3]; };
/* pointers */
struct fp { char c; void (*cb)(int, char *); void *v; double *dp; char **argv; int (*arr)[4]; int *parr[2]; };
/* enums */
struct em { enum color c; char x; };
/* attributes */
struct pk { char a; int b __attribute__((packed)); char c; };
struct al { char a; int b __attribute__((aligned(16))); };
struct pn { char a; struct { char x; int y; } __attribute__((packed)) s; };
struct pb { char a; int b : 7 __attribute__((packed)); };
/* flexible arrays */
struct fl { int n; char data[]; };
struct fl2 { short n; long items[]; };
struct fl3 { char c; int z[0]; };
/* kernel types */
struct k { char c; struct kernel_thing kt; u64 x; pid_t pid; size_t sz; };
/* nested definitions */
struct outer { struct inner { int a; char b; } in; enum { X1, X2 } e; char z; };
/* forward references through pointers */
struct fb;
struct fa { struct fb *p; char c; };
struct fb { struct fa a; int x; };
struct list { struct list *next; int v; };
struct empty {};

int main(void) {
	S(struct foo) F(struct foo, a) F(struct foo, name) F(struct foo, next) F(struct foo, flags)
	S(union u) F(union u, i) F(union u, c)
	S(struct nested) F(struct nested, f) F(struct nested, arr) F(struct nested, x) B(struct nested, y); B(struct nested, z);
	S(struct pad) F(struct pad, a) F(struct pad, b) F(struct pad, c) F(struct pad, d) F(struct pad, e) F(struct pad, f) F(struct pad, g)
	S(struct tail) F(struct tail, l) F(struct tail, c)
	S(struct shorts) F(struct shorts, a) F(struct shorts, b)
	S(struct b1) F(struct b1, a) B(struct b1, b);
	S(struct b2) F(struct b2, a) B(struct b2, b);
	S(struct b3) B(struct b3, a); B(struct b3, b); F(struct b3, c) B(struct b3, d); B(struct b3, e);
	S(struct b4) F(struct b4, a) B(struct b4, b); B(struct b4, c);
	S(struct b5) B(struct b5, f); BW(struct b5, g); B(struct b5, h);
	S(struct b6) F(struct b6, a)
	S(struct b7) F(struct b7, a) F(struct b7, b)
	S(struct b8) B(struct b8, s); B(struct b8, u); B(struct b8, c); B(struct b8, x);
	S(union ub) B(union ub, x); F(union ub, c) B(union ub, y);
	S(union ub2) F(union ub2, c)
	S(struct an) F(struct an, a) F(struct an, b) F(struct an, c) F(struct an, d) F(struct an, e)
	S(union anu) F(union anu, lo) F(union anu, hi) F(union anu, all)
	S(struct md) F(struct md, m) F(struct md, s) F(struct md, bytes) F(struct md, tail)
	S(struct ch) F(struct ch, s) F(struct ch, u) F(struct ch, i8) F(struct ch, cs)
	S(struct fp) F(struct fp, c) F(struct fp, cb) F(struct fp, v) F(struct fp, dp) F(struct fp, argv) F(struct fp, arr) F(struct fp, parr)
	S(struct em) F(struct em, c) F(struct em, x)
	S(struct pk) F(struct pk, a) F(struct pk, b) F(struct pk, c)
	S(struct al) F(struct al, a) F(struct al, b)
	S(struct pn) F(struct pn, a) F(struct pn, s)
	S(struct pb) F(struct pb, a) B(struct pb, b);
	S(struct fl) F(struct fl, n) F(struct fl, data)
	S(struct fl2) F(struct fl2, n) F(struct fl2, items)
	S(struct fl3) F(struct fl3, c) F(struct fl3, z)
	S(struct k) F(struct k, c) F(struct k, kt) F(struct k, x) F(struct k, pid) F(struct k, sz)
	S(struct outer) F(struct outer, in) F(struct outer, e) F(struct outer, z)
	S(struct inner) F(struct inner, a) F(struct inner, b)
	S(struct fa) F(struct fa, p) F(struct fa, c)
	S(struct fb) F(struct fb, a) F(struct fb, x)
	S(struct list) F(struct list, next) F(struct list, v)
	S(struct empty)
	printf("enum color size=%zu\n", sizeof(enum color));
	return 0;
}
