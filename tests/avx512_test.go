//go:build linux

package tests

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
	"procgdb/regs"
	"procgdb/rsp"
)

// AVX-512 and protection keys, as gdb and lldb see them through procgdb.
// TestAVX512Registers runs a real program on a machine with AVX-512.
// TestAVX512Description runs everywhere: procgdb's session serves a
// register file of a machine with AVX-512 and PKRU (a Sapphire Rapids
// class processor's XSAVE layout, built with regs.NewLayout), held in
// memory, to gdb and lldb, so that the description, the g-packet order
// and the writes are checked with both debuggers even where the CPU has
// no AVX-512.

// sapphireRapids is the XSAVE layout of a processor with AVX-512, PKRU
// and AMX, as its CPUID leaf 0xD reports it.
func sapphireRapids(t *testing.T) *regs.Layout {
	t.Helper()
	l, err := regs.NewLayout(11008, 0x602e7, []regs.Component{
		{Index: 2, Offset: 576, Size: 256},
		{Index: 5, Offset: 1088, Size: 64},
		{Index: 6, Offset: 1152, Size: 512},
		{Index: 7, Offset: 1664, Size: 1024},
		{Index: 9, Offset: 2688, Size: 8},
		{Index: 17, Offset: 2752, Size: 64},
		{Index: 18, Offset: 2816, Size: 8192},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// registerFile is an rsp.Target with one stopped thread and no memory:
// its registers, and nothing else, are what a client can look at.
type registerFile struct {
	mu  sync.Mutex
	set regs.Set
}

const registerFilePID = 4242

// newRegisterFile returns a thread whose XSAVE area has every component
// in use and each byte numbered: byte i of the area holds i%251. Its
// zmm0 is 32-bit words 0x10 to 0x1f, k1 is 0xa5a5 and xmm16's first word
// 0xcafe; pkru is 0x55555554.
func newRegisterFile(l *regs.Layout) *registerFile {
	f := &registerFile{set: regs.Set{Layout: l, XSave: make([]byte, l.Size)}}
	xs := f.set.XSave
	for i := range xs {
		xs[i] = byte(i % 251)
	}
	clear(xs[512:576]) // the XSAVE header, then XSTATE_BV
	binary.LittleEndian.PutUint64(xs[512:], l.Features)
	binary.LittleEndian.PutUint16(xs[0:], 0x037f)  // fctrl
	binary.LittleEndian.PutUint32(xs[24:], 0x1f80) // mxcsr
	// zmm0: xmm0 in the legacy region, ymm0h in AVX, zmm0h in ZMM_Hi256.
	for w := range 16 {
		var off int
		switch {
		case w < 4:
			off = 160 + 4*w
		case w < 8:
			off = 576 + 4*(w-4)
		default:
			off = 1152 + 4*(w-8)
		}
		binary.LittleEndian.PutUint32(xs[off:], uint32(0x10+w))
	}
	binary.LittleEndian.PutUint64(xs[1088+8:], 0xa5a5)   // k1
	binary.LittleEndian.PutUint32(xs[1664:], 0xcafe)     // xmm16
	binary.LittleEndian.PutUint32(xs[2688:], 0x55555554) // pkru
	f.set.GPR.Rip = 0x401000
	f.set.GPR.Rsp = 0x7ffffff0
	f.set.GPR.Cs, f.set.GPR.Ss = 0x33, 0x2b
	f.set.GPR.Eflags = 0x246
	return f
}

var errNoMemory = fmt.Errorf("a register file has no memory: %w", unix.EIO)

func (f *registerFile) Processes() []int { return []int{registerFilePID} }

func (f *registerFile) Threads(pid int) ([]int, error) {
	if pid != registerFilePID {
		return nil, unix.ESRCH
	}
	return []int{registerFilePID}, nil
}

func (f *registerFile) Registers(t inferior.ThreadID, ext bool) (*regs.Set, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.set
	s.XSave = bytes.Clone(f.set.XSave)
	return &s, nil
}

func (f *registerFile) SetRegisters(t inferior.ThreadID, s *regs.Set) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set.GPR = s.GPR
	copy(f.set.XSave, s.XSave)
	return nil
}

func (f *registerFile) ReadMemory(int, uint64, []byte) (int, error)  { return 0, errNoMemory }
func (f *registerFile) WriteMemory(int, uint64, []byte) (int, error) { return 0, errNoMemory }
func (f *registerFile) InsertBreakpoint(int, uint64) error           { return errNoMemory }
func (f *registerFile) RemoveBreakpoint(int, uint64) error           { return errNoMemory }
func (f *registerFile) Resume([]inferior.Action) error {
	return errors.New("a register file does not run")
}
func (f *registerFile) WaitStop(ctx context.Context) (inferior.Event, bool, error) {
	<-ctx.Done()
	return inferior.Event{}, false, ctx.Err()
}
func (f *registerFile) Interrupt() error             { return nil }
func (f *registerFile) Kill(int) error               { return nil }
func (f *registerFile) Detach(int) error             { return nil }
func (f *registerFile) SetPassSignals([]int)         {}
func (f *registerFile) Auxv(int) ([]byte, error)     { return nil, errNoMemory }
func (f *registerFile) ExecFile(int) (string, error) { return "", unix.ENOENT }
func (f *registerFile) Siginfo(inferior.ThreadID) ([]byte, error) {
	return make([]byte, 128), nil
}
func (f *registerFile) Libraries(int) (uint64, []inferior.Library, error) { return 0, nil, nil }
func (f *registerFile) ThreadInfo(inferior.ThreadID) (string, int, bool) {
	return "registers", 0, true
}

// serveRegisterFile serves f to one client at a time on a loopback port
// until the test ends, and returns the port's address.
func serveRegisterFile(t *testing.T, f *registerFile) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s := rsp.NewSession(c, f, rsp.Config{TargetXML: f.set.Layout.TargetXML()})
			s.Serve(ctx)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestAVX512Description: gdb reads the AVX-512 and PKRU registers that
// procgdb describes, composes $zmmN and $ymm16-$ymm31 from their parts as
// it does natively, lists k0-k7 in `info registers`, and writes through
// them: a changed word of $zmm3 is still there when gdb reads the
// registers again from the stub. lldb 14 reads them too.
func TestAVX512Description(t *testing.T) {
	prepare(t)
	onlyProcgdb(t, "procgdb's session serving a register file")
	f := newRegisterFile(sapphireRapids(t))
	addr := serveRegisterFile(t, f)

	t.Run("gdb", func(t *testing.T) {
		tr := runGDB(t, "", "target remote "+addr,
			"print/x $zmm0.v16_int32",
			"print/x $k1",
			"print/x $xmm16.v4_int32[0]",
			"print/x $ymm16.v8_int32[0]",
			"print/x $pkru",
			"ptype $zmm31",
			"set var $zmm3.v16_int32[5] = 7",
			"set var $zmm3.v16_int32[15] = 15",
			"set var $k2 = 0x77",
			"set var $xmm31.v4_int32[3] = 0x31",
			"maint flush register-cache",
			"print $zmm3.v16_int32[5]",
			"print $zmm3.v16_int32[15]",
			"print/x $k2",
			"print/x $xmm31.v4_int32[3]",
			"info registers",
		)
		tr.match("print/x $zmm0.v16_int32", `= \{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f\}`)
		tr.match("print/x $k1", `= 0xa5a5$`)
		tr.match("print/x $xmm16.v4_int32[0]", `= 0xcafe$`)
		tr.match("print/x $ymm16.v8_int32[0]", `= 0xcafe$`)
		tr.match("print/x $pkru", `= 0x55555554$`)
		tr.match("ptype $zmm31", `v16_int32`)
		tr.match("print $zmm3.v16_int32[5]", `= 7$`)
		tr.match("print $zmm3.v16_int32[15]", `= 15$`)
		tr.match("print/x $k2", `= 0x77$`)
		tr.match("print/x $xmm31.v4_int32[3]", `= 0x31$`)
		info := tr.out("info registers")
		for i := range 8 {
			tr.match("info registers", fmt.Sprintf(`(?m)^k%d\s+0x`, i))
		}
		if strings.Contains(info, "zmm0h") || strings.Contains(info, "ymm16h") {
			t.Errorf("info registers shows the raw halves:\n%s", info)
		}
		// The writes reached the stub's register file, at the SDM's
		// places: zmm3's words 5 (ymm3h) and 15 (zmm3h), k2, xmm31.
		f.mu.Lock()
		xs := bytes.Clone(f.set.XSave)
		f.mu.Unlock()
		for _, c := range []struct {
			name string
			off  int
			want uint32
		}{
			{"zmm3 word 5", 576 + 3*16 + 4, 7},
			{"zmm3 word 15", 1152 + 3*32 + 28, 15},
			{"k2", 1088 + 2*8, 0x77},
			{"xmm31 word 3", 1664 + 15*64 + 12, 0x31},
		} {
			if got := binary.LittleEndian.Uint32(xs[c.off:]); got != c.want {
				t.Errorf("%s in the XSAVE area = %#x, want %#x", c.name, got, c.want)
			}
		}
	})

	t.Run("lldb", func(t *testing.T) {
		needTool(t, "lldb")
		tr := runLLDB(t, "", "gdb-remote "+addr,
			"register read k1",
			"register read xmm16",
			"register read zmm0h",
			"register read pkru",
			"register read ymm0",
			"register read rip",
			"register read --all",
			"register read zmm0",
		)
		tr.match("register read k1", `k1 = 0x000000000000a5a5`)
		tr.match("register read xmm16", `xmm16 = \{0xfe 0xca 0x00 0x00 `)
		tr.match("register read zmm0h", `zmm0h = \{0x18 0x00 0x00 0x00 0x19 `)
		tr.match("register read pkru", `pkru = 0x55555554`)
		tr.match("register read ymm0", `ymm0 = \{0x10 0x00 0x00 0x00 0x11 `)
		tr.match("register read rip", `rip = 0x0000000000401000`)
		// Every register reads, the halves of zmm31 included.
		tr.match("register read --all", `zmm31h = \{`)
		tr.noMatch("register read --all", `error|unavailable`)
		// lldb 14 composes ymm0-ymm15 from their halves, but neither
		// zmmN nor ymm16-ymm31: it names zmm0 invalid. A later lldb
		// that composes it must find the right value.
		tr.match("register read zmm0", `zmm0 = \{0x10 0x00 0x00 0x00 0x11 |Invalid register name 'zmm0'`)
	})
}

// needAVX512 skips a test on a machine whose CPU or kernel provably has
// no AVX-512 state: XCR0, which CPUID and XGETBV report, does not enable
// components 5 to 7.
func needAVX512(t *testing.T) *regs.Layout {
	t.Helper()
	l, err := regs.HostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if !l.HasAVX512 {
		t.Skipf("no AVX-512 here: XCR0 is %#x (CPUID leaf 0xD), without the opmask, ZMM_Hi256 and Hi16_ZMM components (bits 5-7)", l.Features)
	}
	return l
}

// TestAVX512Registers: on a machine with AVX-512, gdb reads the registers
// a program loaded (zmm0, zmm3, zmm16, zmm31, k1), composes $zmmN and
// $ymm16-$ymm31, lists k0-k7, and changes zmm3, zmm16, zmm31 and k1 in
// the processor: the program reads back what gdb wrote. lldb reads them
// too.
func TestAVX512Registers(t *testing.T) {
	prepare(t)
	l := needAVX512(t)
	t.Run("gdb", func(t *testing.T) {
		s := startStub(t, stubOptions{prog: prog("avx512")})
		cmds := []string{
			"break *avx512_loaded",
			"continue",
			"print/x $zmm0.v16_int32",
			"print/x $zmm3.v16_int32",
			"print/x $xmm16.v4_int32",
			"print/x $ymm31.v8_int32",
			"print/x $zmm31.v16_int32[15]",
			"print/x $k1",
			"info registers",
			"set var $zmm3.v16_int32[5] = 7",
			"set var $zmm3.v16_int32[15] = 15",
			"set var $k1 = 0x1234",
			"set var $xmm16.v4_int32[0] = 0x77",
			"set var $zmm31.v16_int32[15] = 0x99",
			"print $zmm3.v16_int32[5]",
			"continue",
		}
		if l.HasPKRU {
			cmds = append(cmds[:len(cmds)-1], "print/x $pkru", "continue")
		}
		tr := s.gdb(cmds...)
		tr.match("continue", `Breakpoint 1, .*avx512_loaded`)
		tr.match("print/x $zmm0.v16_int32", `= \{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f\}`)
		tr.match("print/x $zmm3.v16_int32", `= \{0x30, 0x31, .*, 0x3f\}`)
		tr.match("print/x $xmm16.v4_int32", `= \{0x160, 0x161, 0x162, 0x163\}`)
		tr.match("print/x $ymm31.v8_int32", `= \{0x310, 0x311, 0x312, 0x313, 0x314, 0x315, 0x316, 0x317\}`)
		tr.match("print/x $zmm31.v16_int32[15]", `= 0x31f$`)
		tr.match("print/x $k1", `= 0xa5a5$`)
		for i := range 8 {
			tr.match("info registers", fmt.Sprintf(`(?m)^k%d\s+0x`, i))
		}
		tr.match("print $zmm3.v16_int32[5]", `= 7$`)
		if l.HasPKRU {
			tr.match("print/x $pkru", `= 0x[0-9a-f]+$`)
		}
		if suite.stub == "gdbserver" {
			// gdbserver 13 fails to write vector registers where the
			// kernel's XSAVE area outgrows its buffer (AMX machines).
			return
		}
		tr.match("continue", `exited normally`, 2)
		want := regexp.MustCompile("^" + regexp.QuoteMeta("zmm3[5]=7 zmm3[15]=15 k1=0x1234 zmm16[0]=0x77 zmm31[15]=0x99") + "$")
		if _, _, err := s.stdout.wait(0, want, exitTimeout, s.done); err != nil {
			t.Errorf("the program did not see gdb's writes: %v; it printed:\n%s", err, s.stdout)
		}
	})
	t.Run("lldb", func(t *testing.T) {
		onlyProcgdb(t, "lldb's dialect")
		needTool(t, "lldb")
		s := startStub(t, stubOptions{prog: prog("avx512")})
		// By address: lldb would move a breakpoint by name past what it
		// takes for the prologue of load_and_stop.
		loaded, _ := elfSymbol(t, prog("avx512"), "avx512_loaded", elf.STT_NOTYPE)
		stop := fmt.Sprintf("breakpoint set -s avx512 -a %#x", loaded)
		tr := runLLDB(t, prog("avx512"), "gdb-remote "+s.target,
			stop,
			"continue",
			"register read k1",
			"register read xmm16",
			"register read ymm0",
			"register read zmm3h",
			"register read --all",
			"kill",
		)
		tr.match("register read k1", `k1 = 0x000000000000a5a5`)
		tr.match("register read xmm16", `xmm16 = \{0x60 0x01 0x00 0x00 0x61 0x01 0x00 0x00 `)
		tr.match("register read ymm0", `ymm0 = \{0x10 0x00 0x00 0x00 `)
		tr.match("register read zmm3h", `zmm3h = \{0x38 0x00 0x00 0x00 0x39 `)
		tr.noMatch("register read --all", `error|unavailable`)
	})
}
