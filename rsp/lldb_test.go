package rsp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// lldbTarget is a fakeTarget that is also an Inspector and an Allocator.
type lldbTarget struct {
	*fakeTarget
	regions []MemoryRegion
	slot    uint64
}

func newLLDBTarget() *lldbTarget {
	return &lldbTarget{
		fakeTarget: newFakeTarget(),
		regions: []MemoryRegion{
			{Start: 0x400000, End: 0x401000, Read: true, Name: "/bin/prog"},
			{Start: 0x401000, End: 0x402000, Read: true, Exec: true, Name: "/bin/prog"},
			{Start: 0x600000, End: 0x621000, Read: true, Write: true, Name: "[heap]"},
			{Start: 0x7ffe0000, End: 0x7fff0000, Read: true, Write: true},
		},
		slot: 0x403ff8,
	}
}

func (lt *lldbTarget) ProcessInfo(pid int) (ProcessInfo, error) {
	return ProcessInfo{PID: pid, PPID: 1, UID: 1000, GID: 100, EUID: 1001, EGID: 101}, nil
}

func (lt *lldbTarget) MemoryRegions(int) ([]MemoryRegion, error) { return lt.regions, nil }

func (lt *lldbTarget) SharedLibraryInfoAddr(int) (uint64, error) { return lt.slot, nil }

func (lt *lldbTarget) Module(pid int, path string) (ModuleInfo, error) {
	if path != "/bin/prog" {
		return ModuleInfo{}, fmt.Errorf("%s: not mapped: %w", path, unix.ENOENT)
	}
	return ModuleInfo{Path: path, BuildID: []byte{0xde, 0xad, 0xbe, 0xef}, Size: 0x1234}, nil
}

func (lt *lldbTarget) AllocateMemory(t inferior.ThreadID, size uint64, prot int) (uint64, error) {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.record("AllocateMemory %d.%d %#x prot=%d", t.PID, t.TID, size, prot)
	return 0x7f0000000000, nil
}

func (lt *lldbTarget) FreeMemory(t inferior.ThreadID, addr, size uint64) error {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	lt.record("FreeMemory %d.%d %#x %#x", t.PID, t.TID, addr, size)
	return nil
}

func startLLDBSession(t *testing.T) (*harness, *lldbTarget) {
	t.Helper()
	lt := newLLDBTarget()
	h := serveTarget(t, lt, lt.fakeTarget, Config{})
	if r := h.exchange("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+"); !strings.Contains(r, ";native-signals+") {
		t.Fatalf("qSupported to lldb: %q", r)
	}
	return h, lt
}

func hexText(s string) string { return hex.EncodeToString([]byte(s)) }

func TestLLDBStopRepliesNegotiated(t *testing.T) {
	h, _ := startLLDBSession(t)
	// gdb's dialect until lldb asks for its own.
	if r := h.exchange("?"); strings.Contains(r, "reason:") || strings.Contains(r, "threads:") {
		t.Errorf("stop reply before negotiation: %q", r)
	}
	h.expect("QThreadSuffixSupported", "OK")
	h.expect("QListThreadsInStopReply", "OK")
	r := h.exchange("?")
	for _, want := range []string{"T05thread:p64.64;", "name:w<100>;", "reason:signal;", "threads:64,65;", "thread-pcs:401064,401065;", "jstopinfo:"} {
		if !strings.Contains(r, want) {
			t.Errorf("stop reply %q lacks %q", r, want)
		}
	}
	_, js, _ := strings.Cut(r, "jstopinfo:")
	js, _, _ = strings.Cut(js, ";")
	b, err := hex.DecodeString(js)
	if err != nil {
		t.Fatalf("jstopinfo %q: %v", js, err)
	}
	var infos []lldbThreadInfo
	if err := json.Unmarshal(b, &infos); err != nil || len(infos) != 1 || infos[0].TID != 100 || infos[0].Signal != 5 {
		t.Errorf("jstopinfo %s: %+v, %v", b, infos, err)
	}
}

func TestLLDBStopReasons(t *testing.T) {
	for _, c := range []struct {
		ev   inferior.Event
		want string
	}{
		{inferior.Event{Kind: inferior.EventBreakpoint}, "breakpoint"},
		{inferior.Event{Kind: inferior.EventStep}, "trace"},
		{inferior.Event{Kind: inferior.EventSignal, Signal: int(unix.SIGSEGV)}, "signal"},
		{inferior.Event{Kind: inferior.EventSignal}, ""},
		{inferior.Event{Kind: inferior.EventExec}, "exec"},
		{inferior.Event{Kind: inferior.EventFork}, ""},
		{inferior.Event{Kind: inferior.EventHWBreakpoint}, "breakpoint"},
		{inferior.Event{Kind: inferior.EventWatchpoint, HW: inferior.HWPoint{Kind: inferior.HWWrite, Addr: 0x601040}}, "watchpoint"},
	} {
		if got := stopReason(c.ev); got != c.want {
			t.Errorf("stopReason(%+v) = %q, want %q", c.ev, got, c.want)
		}
	}
	// lldb finds its watchpoint by the address in the description.
	if d := stopDescription(inferior.Event{Kind: inferior.EventWatchpoint, HW: inferior.HWPoint{Addr: 0x601040}}); d != "6295616" {
		t.Errorf("watchpoint description %q, want the address in decimal", d)
	}
}

func TestLLDBThreadNames(t *testing.T) {
	for name, want := range map[string]string{
		"worker":    "name:worker;",
		"a;b":       "hexname:" + hexText("a;b") + ";",
		"two words": "hexname:" + hexText("two words") + ";",
		"":          "hexname:;",
	} {
		if got := string(appendThreadName(nil, name)); got != want {
			t.Errorf("appendThreadName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestLLDBThreadSuffix(t *testing.T) {
	h, lt := startLLDBSession(t)
	// Without QThreadSuffixSupported the suffix is not understood.
	if r := h.exchange("p10;thread:65;"); !strings.HasPrefix(r, "E") {
		t.Errorf("p with a suffix before negotiation: %q", r)
	}
	h.expect("QThreadSuffixSupported", "OK")
	h.expect("p10;thread:65;", "6510400000000000")
	h.expect("p10;thread:p64.64;", "6410400000000000")
	// The suffix applies to its packet only: Hg is unchanged.
	h.expect("p10", "6410400000000000")
	h.expect("P10=0020400000000000;thread:65;", "OK")
	if got := lt.called(); !strings.Contains(got, "SetRegisters 100.101 rip=0x402000") {
		t.Errorf("calls %q", got)
	}
	h.expect("p10;thread:99;", "E02")
	h.expect("p10;thread:zz;", "E01")
	if r := h.exchange("g;thread:65;"); len(r) < 2*8*17 {
		t.Errorf("g with a suffix: %q", r)
	}
}

func TestLLDBErrorStrings(t *testing.T) {
	h, _ := startLLDBSession(t)
	h.expect("mzz,4", "E01")
	h.expect("QEnableErrorStrings", "OK")
	r := h.exchange("mzz,4")
	code, text, ok := strings.Cut(r, ";")
	if !ok || code != "E01" {
		t.Fatalf("error reply %q", r)
	}
	msg, err := hex.DecodeString(text)
	if err != nil || !strings.Contains(string(msg), "zz") {
		t.Errorf("error text %q: %q, %v", text, msg, err)
	}
}

func TestLLDBHostAndProcessInfo(t *testing.T) {
	h, _ := startLLDBSession(t)
	r := h.exchange("qHostInfo")
	for _, want := range []string{"triple:" + hexText("x86_64-pc-linux-gnu") + ";", "ptrsize:8;", "endian:little;", "ostype:linux;", "hostname:"} {
		if !strings.Contains(r, want) {
			t.Errorf("qHostInfo %q lacks %q", r, want)
		}
	}
	h.expect("qProcessInfo", "pid:64;parent-pid:1;real-uid:3e8;real-gid:64;effective-uid:3e9;effective-gid:65;triple:"+
		hexText("x86_64-pc-linux-gnu")+";ostype:linux;endian:little;ptrsize:8;")
	h.expect("qProcessInfo:1", "E01")
	h.expect("qGDBServerVersion", "name:procgdb;version:1;")
	h.expect("qWatchpointSupportInfo:", "num:0;")
	h.expect("QSetDisableASLR:1", "OK")
	h.expect("QSetDisableASLR:x", "E01")
}

func TestLLDBProcessInfoWithoutInspector(t *testing.T) {
	h := startSession(t, newFakeTarget(), Config{})
	h.expect("qProcessInfo", "pid:64;triple:"+hexText("x86_64-pc-linux-gnu")+";ostype:linux;endian:little;ptrsize:8;")
	for _, p := range []string{"qMemoryRegionInfo:0", "qShlibInfoAddr", "qFileLoadAddress:00", "qModuleInfo:00;00", "jModulesInfo:[]", "_M1000,rwx", "_m1000"} {
		h.expect(p, "")
	}
}

func TestLLDBMemoryRegionInfo(t *testing.T) {
	h, _ := startLLDBSession(t)
	prog := hexText("/bin/prog")
	for addr, want := range map[string]string{
		"0":          "start:0;size:400000;",
		"400000":     "start:400000;size:1000;permissions:r;name:" + prog + ";",
		"0x401fff":   "start:401000;size:1000;permissions:rx;name:" + prog + ";",
		"402000":     "start:402000;size:1fe000;",
		"600010":     "start:600000;size:21000;permissions:rw;name:" + hexText("[heap]") + ";",
		"7ffe8000":   "start:7ffe0000;size:10000;permissions:rw;",
		"7fff0000":   "start:7fff0000;size:ffffffff80010000;",
		"ffffffffff": "start:7fff0000;size:ffffffff80010000;",
	} {
		h.expect("qMemoryRegionInfo:"+addr, want)
	}
	h.expect("qMemoryRegionInfo", "E01")
	h.expect("qMemoryRegionInfo:xyz", "E01")
}

func TestLLDBFilesAndModules(t *testing.T) {
	h, _ := startLLDBSession(t)
	h.expect("qShlibInfoAddr", "403ff8")
	h.expect("qFileLoadAddress:"+hexText("/bin/prog"), "400000")
	h.expect("qFileLoadAddress:"+hexText("/bin/other"), "E01")
	h.expect("qFileLoadAddress:zz", "E01")
	triple := hexText("x86_64-pc-linux-gnu")
	h.expect("qModuleInfo:"+hexText("/bin/prog")+";"+triple,
		"uuid:"+hexText("DEADBEEF")+";triple:"+triple+";file_path:"+hexText("/bin/prog")+";file_offset:0;file_size:1234;")
	if r := h.exchange("qModuleInfo:" + hexText("/etc/passwd") + ";" + triple); !strings.HasPrefix(r, "E") {
		t.Errorf("qModuleInfo of an unmapped file: %q", r)
	}
	h.expect("qModuleInfo:"+hexText("/bin/prog"), "E01")
	h.expect(`jModulesInfo:[{"file":"/bin/prog","triple":"x86_64-pc-linux-gnu"},{"file":"/etc/passwd","triple":"x86_64-pc-linux-gnu"}]`,
		`[{"uuid":"DEADBEEF","triple":"x86_64-pc-linux-gnu","file_path":"/bin/prog","file_offset":0,"file_size":4660}]`)
	h.expect(`jModulesInfo:[]`, `[]`)
	h.expect(`jModulesInfo:{`, "E01")
}

func TestLLDBThreadsInfo(t *testing.T) {
	h, _ := startLLDBSession(t)
	r := h.exchange("jThreadsInfo")
	var infos []lldbThreadInfo
	if err := json.Unmarshal([]byte(r), &infos); err != nil {
		t.Fatalf("jThreadsInfo %q: %v", r, err)
	}
	if len(infos) != 2 || infos[0].TID != 100 || infos[1].TID != 101 || infos[1].Signal != 0 || infos[1].Name != "w<101>" {
		t.Errorf("jThreadsInfo: %+v", infos)
	}
	if infos[0].Registers["16"] != "6410400000000000" || infos[0].Registers["7"] != "0000fe7f00000000" {
		t.Errorf("expedited registers: %v", infos[0].Registers)
	}
	h.expect("jThreadsInfo:x", "E01")

	h.expect("QThreadSuffixSupported", "OK")
	if r := h.exchange("qThreadStopInfo65"); !strings.HasPrefix(r, "T00thread:p64.65;") || !strings.Contains(r, "name:w<101>;") || strings.Contains(r, "reason:") {
		t.Errorf("qThreadStopInfo65: %q", r)
	}
	if r := h.exchange("qThreadStopInfo64"); !strings.HasPrefix(r, "T05thread:p64.64;") {
		t.Errorf("qThreadStopInfo64: %q", r)
	}
	h.expect("qThreadStopInfo99", "E02")
	h.expect("qThreadStopInfoxx", "E01")
}

func TestLLDBSaveRestoreRegisters(t *testing.T) {
	h, lt := startLLDBSession(t)
	h.expect("QThreadSuffixSupported", "OK")
	h.expect("QSaveRegisterState;thread:65;", "1")
	h.expect("P10=0000000000000000;thread:65;", "OK")
	h.expect("p10;thread:65;", "0000000000000000")
	h.expect("QRestoreRegisterState:1;thread:65;", "OK")
	h.expect("p10;thread:65;", "6510400000000000")
	// An id is good for one restore.
	h.expect("QRestoreRegisterState:1;thread:65;", "E02")
	h.expect("QRestoreRegisterState:x", "E01")
	h.expect("QSaveRegisterState", "2")
	if got := lt.called(); !strings.Contains(got, "rip=0x401065") {
		t.Errorf("calls %q", got)
	}
	for range maxSavedRegisters - 1 {
		h.exchange("QSaveRegisterState")
	}
	if r := h.exchange("QSaveRegisterState"); !strings.HasPrefix(r, "E") {
		t.Errorf("save beyond the bound: %q", r)
	}
}

func TestLLDBAllocateMemory(t *testing.T) {
	h, lt := startLLDBSession(t)
	h.expect("_M1000,rwx", "7f0000000000")
	h.expect("_m7f0000000000", "OK")
	h.expect("_m7f0000000000", "E02")
	h.expect("_M1000,rq", "E01")
	h.expect("_M0,r", "E01")
	h.expect("_M,r", "E01")
	h.expect("_Mzz", "E01")
	want := fmt.Sprintf("AllocateMemory 100.100 0x1000 prot=%d\nFreeMemory 100.100 0x7f0000000000 0x1000", unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC)
	if got := lt.called(); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestLLDBRegisterInfo(t *testing.T) {
	h, _ := startLLDBSession(t)
	for n, want := range map[string]string{
		"0":  "name:rax;bitsize:64;offset:0;encoding:uint;format:hex;set:General Purpose Registers;ehframe:0;dwarf:0;invalidate-regs:",
		"10": "name:rip;alt-name:pc;bitsize:64;offset:128;encoding:uint;format:hex;set:General Purpose Registers;ehframe:16;dwarf:16;generic:pc;",
		"5":  "name:rdi;bitsize:64;offset:40;encoding:uint;format:hex;set:General Purpose Registers;ehframe:5;dwarf:5;generic:arg1;",
		"28": "name:xmm0;bitsize:128;offset:",
		"3c": "name:eax;bitsize:32;offset:0;encoding:uint;format:hex;set:General Purpose Registers;container-regs:0;invalidate-regs:0,",
		"3f": "name:ah;bitsize:8;offset:1;",
	} {
		if r := h.exchange("qRegisterInfo" + n); !strings.HasPrefix(r, want) {
			t.Errorf("qRegisterInfo%s: %q, want prefix %q", n, r, want)
		}
	}
	// The fake target's layout has no AVX: the views of the sixteen
	// general registers end the list.
	if r := h.exchange("qRegisterInfo" + fmt.Sprintf("%x", 60+16*3+4-1)); !strings.HasPrefix(r, "name:r15l;") {
		t.Errorf("last register: %q", r)
	}
	h.expect("qRegisterInfo"+fmt.Sprintf("%x", 60+16*3+4), "E02")
	h.expect("qRegisterInfozz", "E01")
}

func TestParseThreadSuffix(t *testing.T) {
	for _, c := range []struct {
		in, rest string
		t        inferior.ThreadID
		ok       bool
		err      bool
	}{
		{"p10;thread:65;", "p10", inferior.ThreadID{PID: 0, TID: 0x65}, true, false},
		{"g;thread:p1.2;", "g", inferior.ThreadID{PID: 1, TID: 2}, true, false},
		{"P1=00;thread:3", "P1=00", inferior.ThreadID{PID: 0, TID: 3}, true, false},
		{"p10", "p10", inferior.ThreadID{}, false, false},
		{"p10;thread:;", "", inferior.ThreadID{}, false, true},
		{"p10;thread:x;", "", inferior.ThreadID{}, false, true},
	} {
		rest, id, ok, err := parseThreadSuffix([]byte(c.in))
		if (err != nil) != c.err || err == nil && (string(rest) != c.rest || id != c.t || ok != c.ok) {
			t.Errorf("parseThreadSuffix(%q) = %q, %+v, %v, %v", c.in, rest, id, ok, err)
		}
	}
}

func TestParseMemAlloc(t *testing.T) {
	for in, want := range map[string]memAlloc{
		"1000,rwx": {0x1000, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC},
		"10,r":     {0x10, unix.PROT_READ},
		"10,":      {0x10, 0},
	} {
		if got, err := parseMemAlloc([]byte(in)); err != nil || got != want {
			t.Errorf("parseMemAlloc(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1000", "0,r", "zz,r", "10,rz", "10000000001,r"} {
		if _, err := parseMemAlloc([]byte(in)); !errors.Is(err, errMalformed) && !isHexError(err) {
			t.Errorf("parseMemAlloc(%q): %v, want a malformed-request error", in, err)
		}
	}
}

// isHexError reports whether err is one of the hex decoding errors.
func isHexError(err error) bool {
	return errors.Is(err, errHexDigit) || errors.Is(err, errHexEmpty) || errors.Is(err, errHexOverflow) || errors.Is(err, errHexOdd)
}

func FuzzParseThreadSuffix(f *testing.F) {
	for _, s := range []string{"p10;thread:65;", "g;thread:p1.2;", ";thread:", "QSaveRegisterState;thread:-1;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, _, ok, err := parseThreadSuffix(b)
		if err == nil && ok && len(rest) >= len(b) {
			t.Errorf("parseThreadSuffix(%q): rest %q not shorter", b, rest)
		}
	})
}

func FuzzParseMemAlloc(f *testing.F) {
	for _, s := range []string{"1000,rwx", "10,r", "0,", "ffffffffffffffff,x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMemAlloc(b)
		if err == nil && (m.size == 0 || m.prot&^(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0) {
			t.Errorf("parseMemAlloc(%q) = %+v", b, m)
		}
	})
}

func FuzzParseModuleInfo(f *testing.F) {
	f.Add([]byte(hexText("/bin/prog") + ";" + hexText("x86_64-pc-linux-gnu")))
	f.Add([]byte(";"))
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := parseModuleInfo(b)
		if err != nil {
			return
		}
		again := hexText(spec.File) + ";" + hexText(spec.Triple)
		if !strings.EqualFold(again, string(b)) {
			t.Errorf("parseModuleInfo(%q) re-encodes as %q", b, again)
		}
	})
}

func FuzzRegionAt(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(0x401000))
	f.Add(^uint64(0))
	rs := newLLDBTarget().regions
	f.Fuzz(func(t *testing.T, addr uint64) {
		r := regionAt(rs, addr)
		if addr < r.Start || (r.End != 0 && addr >= r.End) {
			t.Errorf("regionAt(%#x) = %+v, which does not hold it", addr, r)
		}
	})
}

func TestLLDBFileQueries(t *testing.T) {
	fs := newFakeFS()
	h := startFileSession(t, fs)
	size := len(fs.files["/bin/prog"])
	h.expect("vFile:size:"+hexPath("/bin/prog"), fmt.Sprintf("F%x", size))
	h.expect("vFile:mode:"+hexPath("/bin/prog"), fmt.Sprintf("F%x", unix.S_IFREG|0o4755))
	h.expect("vFile:exists:"+hexPath("/bin/prog"), "F,1")
	h.expect("vFile:exists:"+hexPath("/nope"), "F,0")
	h.expect("vFile:size:"+hexPath("/nope"), "F-1,2")
	h.expect("vFile:mode:zz", "F-1,16")
	h.expect("vFile:exists:zz", "F-1,16")
	// Without host I/O they are not offered.
	h2 := startSession(t, newFakeTarget(), Config{})
	h2.expect("vFile:size:"+hexPath("/bin/prog"), "")
}

func TestLLDBNativeSignals(t *testing.T) {
	usr1 := int(unix.SIGUSR1) // 10 on Linux, 30 in gdb's numbering
	// gdb: gdb's numbers both ways.
	h := startSession(t, newFakeTarget(), Config{})
	if r := h.exchange(gdbFeatures); strings.Contains(r, "native-signals+") {
		t.Errorf("qSupported to gdb: %q", r)
	}
	h.ft.stops <- inferior.Event{Kind: inferior.EventSignal, PID: fakePID, TID: fakePID, Signal: usr1}
	if r := h.exchange("vCont;C1e:p64.64"); !strings.HasPrefix(r, "T1e") {
		t.Errorf("gdb: stop with SIGUSR1: %q", r)
	}
	if got := h.ft.resumes[len(h.ft.resumes)-1][0].Signal; got != usr1 {
		t.Errorf("gdb: C1e delivered %d", got)
	}

	// lldb: Linux's numbers, from its qSupported on.
	h, _ = startLLDBSession(t)
	h.ft.stops <- inferior.Event{Kind: inferior.EventSignal, PID: fakePID, TID: fakePID, Signal: usr1}
	if r := h.exchange("vCont;C0a:p64.64"); !strings.HasPrefix(r, "T0a") {
		t.Errorf("lldb: stop with SIGUSR1: %q", r)
	}
	if got := h.ft.resumes[len(h.ft.resumes)-1][0].Signal; got != usr1 {
		t.Errorf("lldb: C0a delivered %d", got)
	}
	h.expect("vCont;C41:p64.64", "E02")
	h.expect("QPassSignals:0e;11", "OK")
	if got := h.ft.pass; len(got) != 2 || got[0] != int(unix.SIGALRM) || got[1] != int(unix.SIGCHLD) {
		t.Errorf("lldb: QPassSignals passed %v", got)
	}
}

// FuzzLLDBDispatch runs sequences of packets, one per line, through a
// session on a target with every lldb capability, starting from lldb's
// own packets: nothing panics and every reply is well formed.
func FuzzLLDBDispatch(f *testing.F) {
	triple := hexText("x86_64-pc-linux-gnu")
	for _, s := range []string{
		"QThreadSuffixSupported\nQListThreadsInStopReply\n?\np10;thread:65;\ng;thread:p64.64;",
		"qSupported:xmlRegisters=i386,arm,mips,arc\nQEnableErrorStrings\nmzz,1\nvCont;C0a:p64.64",
		"qHostInfo\nqProcessInfo\njThreadsInfo\nqThreadStopInfo65\nqRegisterInfo3c\nqRegisterInfo7f",
		"qMemoryRegionInfo:401000\nqFileLoadAddress:" + hexText("/bin/prog") + "\nqShlibInfoAddr",
		"qModuleInfo:" + hexText("/bin/prog") + ";" + triple + "\njModulesInfo:[{\"file\":\"/bin/prog\",\"triple\":\"x\"}]",
		"QThreadSuffixSupported\nQSaveRegisterState;thread:65;\nQRestoreRegisterState:1;thread:65;\nQRestoreRegisterState:1",
		"_M1000,rwx\n_m7f0000000000\n_m0",
		"vFile:size:2f62696e2f70726f67\nvFile:mode:00\nvFile:exists:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lt := newLLDBTarget()
		s := NewSession(nil, lt, Config{Files: func() (FileSystem, error) { return newFakeFS(), nil }})
		for _, p := range bytes.Split(in, []byte("\n")) {
			r := s.dispatch(p)
			if r.kind == replyResume {
				continue // the fake target does not run
			}
			if r.kind == replyError {
				_ = appendLLDBError(nil, r.err)
			}
			if r.kind == replyData && len(r.data) > readLimit+packetSize {
				t.Fatalf("%q: reply of %d bytes", p, len(r.data))
			}
		}
	})
}

// TestLLDBStartupSequence replays what lldb 14 sends when it connects (as
// logged against procgdb) and checks each answer's shape.
func TestLLDBStartupSequence(t *testing.T) {
	lt := newLLDBTarget()
	h := serveTarget(t, lt, lt.fakeTarget, Config{TargetXML: []byte("<target/>")})
	if err := h.c.StartNoAck(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ packet, want string }{
		{"qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+", `^PacketSize=.*;multiprocess\+;.*native-signals\+.*qXfer:features:read\+`},
		{"QThreadSuffixSupported", `^OK$`},
		{"QListThreadsInStopReply", `^OK$`},
		{"qHostInfo", `^triple:[0-9a-f]+;ptrsize:8;endian:little;ostype:linux;`},
		{"vCont?", `^vCont;c;C;s;S`},
		{"qVAttachOrWaitSupported", `^$`},
		{"QEnableErrorStrings", `^OK$`},
		{"qProcessInfo", `^pid:64;parent-pid:1;`},
		{"qC", `^QCp64\.64$`},
		{"qfThreadInfo", `^mp64\.64,p64\.65$`},
		{"qsThreadInfo", `^l$`},
		{"?", `^T05thread:p64\.64;(?:[0-9a-f]{2}:[0-9a-f]{8,16};){18}.*name:w<100>;reason:signal;threads:64,65;thread-pcs:401064,401065;jstopinfo:[0-9a-f]+;$`},
		{"qXfer:features:read:target.xml:0,fffff", `^l<target/>$`},
		{"p0;thread:0064;", `^[0-9a-f]{16}$`},
		{"qStructuredDataPlugins", `^$`},
		{"qShlibInfoAddr", `^403ff8$`},
		{"qMemoryRegionInfo:401000", `^start:401000;size:1000;permissions:rx;name:[0-9a-f]+;$`},
		{"x0,0", `^OK$`},
		{"jThreadsInfo", `^\[\{"tid":100,.*"reason":"signal","signal":5,"registers":\{`},
		{"jThreadExtendedInfo:", `^$`},
		{"qThreadStopInfo65", `^T00thread:p64\.65;`},
		{"_M1000,rwx", `^7f0000000000$`},
		{"qWatchpointSupportInfo:", `^num:0;$`},
		{"mzz,1", `^E01;[0-9a-f]+$`},
	} {
		r := h.exchange(step.packet)
		if !regexp.MustCompile(step.want).MatchString(r) {
			t.Errorf("%s: %q, want %s", step.packet, r, step.want)
		}
	}
}
