package rsp

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

func TestParseCatchSyscalls(t *testing.T) {
	tests := []struct {
		in   string
		want catchSyscalls
		err  error
	}{
		{"0", catchSyscalls{}, nil},
		{"1", catchSyscalls{on: true}, nil},
		{"1;1", catchSyscalls{on: true, syscalls: []int{1}}, nil},
		{"1;1;e7;3c", catchSyscalls{on: true, syscalls: []int{1, 0xe7, 0x3c}}, nil},
		{"0;1", catchSyscalls{}, errMalformed},
		{"1;", catchSyscalls{}, errHexEmpty},
		{"1;zz", catchSyscalls{}, errHexDigit},
		{"", catchSyscalls{}, errMalformed},
		{"2", catchSyscalls{}, errMalformed},
	}
	for _, tt := range tests {
		got, err := parseCatchSyscalls([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCatchSyscalls(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseCatchSyscalls(f *testing.F) {
	f.Add([]byte("1;1;e7"))
	f.Add([]byte("0"))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := parseCatchSyscalls(in)
		if err != nil {
			return
		}
		again, err := parseCatchSyscalls(appendCatchSyscalls(nil, c))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, c)
		}
	})
}

func TestEventNegotiation(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		want    inferior.EventOptions
		adverts []string
		not     []string
	}{
		{
			name:    "gdb",
			query:   gdbFeatures,
			want:    inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true},
			adverts: []string{"fork-events+", "vfork-events+", "exec-events+", "no-resumed+", "QThreadEvents+", "QCatchSyscalls+"},
		},
		{
			name:    "lldb",
			query:   "qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;vfork-events+",
			want:    inferior.EventOptions{Fork: true, VFork: true},
			adverts: []string{"fork-events+", "vfork-events+", "QThreadEvents+", "QCatchSyscalls+"},
			not:     []string{"exec-events+", "no-resumed+"},
		},
		{
			name:    "nothing offered",
			query:   "qSupported",
			adverts: []string{"QThreadEvents+", "QCatchSyscalls+"},
			not:     []string{"fork-events+", "vfork-events+", "exec-events+", "no-resumed+"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt := newLaunchTarget()
			h := startLaunchSession(t, lt, Config{})
			got := supportedFeatures(h.exchange(tt.query))
			for _, f := range tt.adverts {
				if !slices.Contains(got, f) {
					t.Errorf("reply %q lacks %q", got, f)
				}
			}
			for _, f := range tt.not {
				if slices.Contains(got, f) {
					t.Errorf("reply %q has %q", got, f)
				}
			}
			if o := lt.eventOptions(); !reflect.DeepEqual(o, tt.want) {
				t.Errorf("options %+v, want %+v", o, tt.want)
			}
		})
	}
}

func TestEventPackets(t *testing.T) {
	lt := newLaunchTarget()
	lt.options = []inferior.EventOptions{{ThreadEvents: true, CatchSyscalls: true}} // the last client's
	h := startLaunchSession(t, lt, Config{})
	h.negotiate(gdbFeatures)
	lt.mu.Lock()
	if !reflect.DeepEqual(lt.options[1], inferior.EventOptions{}) {
		t.Errorf("a new session starts with the last one's options: %+v", lt.options)
	}
	lt.mu.Unlock()
	base := inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true}
	steps := []struct {
		packet, reply string
		want          inferior.EventOptions
	}{
		{"QThreadEvents:1", "OK", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, ThreadEvents: true}},
		{"QCatchSyscalls:1;1;e7", "OK", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, ThreadEvents: true, CatchSyscalls: true, Syscalls: []int{1, 0xe7}}},
		{"QCatchSyscalls:0", "OK", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, ThreadEvents: true}},
		{"QCatchSyscalls:1", "OK", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, ThreadEvents: true, CatchSyscalls: true}},
		{"QThreadEvents:0", "OK", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, CatchSyscalls: true}},
		{"QThreadEvents:2", "E01", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, CatchSyscalls: true}},
		{"QCatchSyscalls:1;x", "E01", inferior.EventOptions{Fork: true, VFork: true, Exec: true, NoResumed: true, CatchSyscalls: true}},
		// qSupported again starts afresh.
		{gdbFeatures, "", base},
	}
	for _, st := range steps {
		r := h.exchange(st.packet)
		if st.reply != "" && r != st.reply {
			t.Errorf("%s: got %q, want %q", st.packet, r, st.reply)
		}
		if o := lt.eventOptions(); !reflect.DeepEqual(o, st.want) {
			t.Errorf("after %s: options %+v, want %+v", st.packet, o, st.want)
		}
	}
}

// TestEventStopReplies checks each event's stop reply through a session,
// with the registers of the thread expedited where there is one.
func TestEventStopReplies(t *testing.T) {
	main := "thread:p64.64;" + fakeRegs("6410400000000000")
	tests := []struct {
		name string
		ev   inferior.Event
		want string
	}{
		{"fork", inferior.Event{Kind: inferior.EventFork, PID: fakePID, TID: fakePID, ChildPID: 0xc8, ChildTID: 0xc8},
			"T05" + main + "fork:pc8.c8;core:0;"},
		{"vfork", inferior.Event{Kind: inferior.EventVFork, PID: fakePID, TID: fakePID, ChildPID: 0xc8, ChildTID: 0xc8},
			"T05" + main + "vfork:pc8.c8;core:0;"},
		{"vfork done", inferior.Event{Kind: inferior.EventVForkDone, PID: fakePID, TID: fakePID},
			"T05" + main + "vforkdone:;core:0;"},
		{"exec", inferior.Event{Kind: inferior.EventExec, PID: fakePID, TID: fakePID, ExecPath: "/bin/true"},
			"T05" + main + "exec:2f62696e2f74727565;core:0;"},
		{"syscall entry", inferior.Event{Kind: inferior.EventSyscallEntry, PID: fakePID, TID: fakePID, Syscall: 1},
			"T05" + main + "syscall_entry:1;core:0;"},
		{"syscall return", inferior.Event{Kind: inferior.EventSyscallReturn, PID: fakePID, TID: fakePID, Syscall: 0xe7},
			"T05" + main + "syscall_return:e7;core:0;"},
		{"thread created", inferior.Event{Kind: inferior.EventThreadCreated, PID: fakePID, TID: 0x66},
			"T05thread:p64.66;" + fakeRegs("6610400000000000") + "create:;core:2;"},
		{"thread exited", inferior.Event{Kind: inferior.EventThreadExited, PID: fakePID, TID: 0x65, ExitCode: 3}, "w03;p64.65"},
		{"clone", inferior.Event{Kind: inferior.EventClone, PID: fakePID, TID: fakePID, ChildPID: fakePID, ChildTID: 0x65},
			"T05" + main + "clone:p64.65;core:0;"},
		{"no resumed", inferior.Event{Kind: inferior.EventNoResumed}, "N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt := newLaunchTarget()
			h := startLaunchSession(t, lt, Config{})
			h.negotiate(gdbFeatures)
			lt.stops <- tt.ev
			h.expect("vCont;c", tt.want)
			// '?' reports a thread's stop again, an event as a plain
			// stop of its thread; after w or N, a stop of the first
			// thread.
			switch tt.ev.Kind {
			case inferior.EventThreadExited, inferior.EventNoResumed:
				h.expect("?", "T05"+main+"core:0;")
			case inferior.EventThreadCreated:
				h.expect("?", "T05thread:p64.66;"+fakeRegs("6610400000000000")+"core:2;")
			default:
				h.expect("?", "T05"+main+"core:0;")
			}
		})
	}
}

// TestThreadExitMovesSelection: the exit of the Hg thread leaves the
// session to pick another.
func TestThreadExitMovesSelection(t *testing.T) {
	lt := newLaunchTarget()
	h := startLaunchSession(t, lt, Config{})
	h.negotiate(gdbFeatures)
	h.expect("QThreadEvents:1", "OK")
	lt.stops <- inferior.Event{Kind: inferior.EventBreakpoint, PID: fakePID, TID: 0x65}
	h.exchange("vCont;c")
	h.expect("qC", "QCp64.65")
	lt.stops <- inferior.Event{Kind: inferior.EventThreadExited, PID: fakePID, TID: 0x65}
	h.expect("vCont;c", "w00;p64.65")
	h.expect("qC", "QCp64.64")
	h.expect("qfThreadInfo", "mp64.64")
}

// TestTwoProcesses follows a fork: both processes are listed, Hg switches
// between them and memory, register and breakpoint packets apply to the
// selected one, vCont resumes per process, and each exit names its
// process.
func TestTwoProcesses(t *testing.T) {
	lt := newLaunchTarget()
	h := startLaunchSession(t, lt, Config{})
	h.negotiate(gdbFeatures)
	h.expect("!", "OK")
	lt.stops <- inferior.Event{Kind: inferior.EventFork, PID: fakePID, TID: fakePID, ChildPID: 0xc8, ChildTID: 0xc8}
	h.expect("vCont;c:p64.-1", "T05thread:p64.64;"+fakeRegs("6410400000000000")+"fork:pc8.c8;core:0;")
	h.expect("qfThreadInfo", "mp64.64,p64.65,pc8.c8")
	h.expect("qsThreadInfo", "l")

	h.expect("Hgpc8.c8", "OK")
	h.expect("qC", "QCpc8.c8")
	h.expect("p10", "c810400000000000")
	h.expect("M10000,1:aa", "OK")
	h.expect("Z0,401000,1", "OK")
	h.expect("Hgpc8.0", "OK")
	h.expect("qXfer:exec-file:read::0,fff", "l/proc/200/exe")
	h.expect("Hgp64.64", "OK")
	h.expect("p10", "6410400000000000")
	h.expect("Z0,401000,1", "OK")
	h.expect("qXfer:exec-file:read:c8:0,fff", "l/proc/200/exe")
	h.expect("qAttached:c8", "0")
	calls := lt.called()
	for _, want := range []string{`WriteMemory 200 0x10000 "\xaa"`, "InsertBreakpoint 200 0x401000", "InsertBreakpoint 100 0x401000"} {
		if !slices.Contains(strings.Split(calls, "\n"), want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}

	// Both run; the child exits first.
	lt.stops <- inferior.Event{Kind: inferior.EventExited, PID: 0xc8, ExitCode: 3}
	h.expect("vCont;c:p64.-1;c:pc8.-1", "W03;process:c8")
	lt.mu.Lock()
	got := lt.resumes[len(lt.resumes)-1]
	lt.mu.Unlock()
	want := []inferior.Action{{Kind: inferior.Continue, PID: fakePID, TID: inferior.All}, {Kind: inferior.Continue, PID: 0xc8, TID: inferior.All}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resumed %+v, want %+v", got, want)
	}
	h.expect("qfThreadInfo", "mp64.64,p64.65")
	h.expect("Hgpc8.c8", "E02")
	h.expect("vCont;c:pc8.-1", "E02")

	lt.stops <- inferior.Event{Kind: inferior.EventKilled, PID: fakePID, Signal: int(unix.SIGSEGV)}
	h.expect("vCont;c:p64.-1", "X0b;process:64")
	h.expect("?", "X0b;process:64")
	h.expect("qfThreadInfo", "l")
}

func TestParseThreadOptions(t *testing.T) {
	all := inferior.ThreadID{PID: inferior.All, TID: inferior.All}
	tests := []struct {
		in   string
		want []threadOption
		err  error
	}{
		{"", nil, nil},
		{";3", []threadOption{{3, all}}, nil},
		{";0", []threadOption{{0, all}}, nil},
		{";3:p64.65", []threadOption{{3, inferior.ThreadID{PID: 0x64, TID: 0x65}}}, nil},
		{";1:p64.-1;2:p64.65", []threadOption{{1, inferior.ThreadID{PID: 0x64, TID: inferior.All}}, {2, inferior.ThreadID{PID: 0x64, TID: 0x65}}}, nil},
		{";2:p64", []threadOption{{2, inferior.ThreadID{PID: 0x64, TID: inferior.All}}}, nil},
		{";3:65;0", []threadOption{{3, inferior.ThreadID{PID: inferior.Any, TID: 0x65}}, {0, all}}, nil},
		{";3:-1", []threadOption{{3, all}}, nil},
		{";ff", []threadOption{{0xff, all}}, nil}, // decoded; the handler refuses it
		{"3", nil, errMalformed},
		{";", nil, errHexEmpty},
		{";:p64.65", nil, errHexEmpty},
		{";3;", nil, errHexEmpty},
		{";zz", nil, errHexDigit},
		{";3:", nil, errHexEmpty},
		{";3:p64.0", nil, errMalformed},
		{";3:0", nil, errMalformed},
		{";3:pzz.1", nil, errHexDigit},
	}
	for _, tt := range tests {
		got, err := parseThreadOptions([]byte(tt.in))
		if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseThreadOptions(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseThreadOptions(f *testing.F) {
	f.Add([]byte(";3:p64.65;0"))
	f.Add([]byte(";1:p64.-1;2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		opts, err := parseThreadOptions(in)
		if err != nil {
			return
		}
		again, err := parseThreadOptions(appendThreadOptions(nil, opts))
		if err != nil || !reflect.DeepEqual(again, opts) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", in, again, err, opts)
		}
	})
}

// TestThreadOptionsPacket: QThreadOptions is offered with the options
// procgdb honours, gives each thread the options of the last entry that
// names it and leaves the others' alone, refuses what it does not honour,
// and a new session starts with none.
func TestThreadOptionsPacket(t *testing.T) {
	lt := newLaunchTarget()
	lt.threadOptions[inferior.ThreadID{PID: fakePID, TID: fakePID}] = inferior.ThreadExit // the last client's
	h := startLaunchSession(t, lt, Config{})
	if got := supportedFeatures(h.exchange(gdbFeatures)); !slices.Contains(got, "QThreadOptions=3") {
		t.Errorf("qSupported: %q lacks QThreadOptions=3", got)
	}
	if supportedThreadOptions != 3 {
		t.Errorf("supportedThreadOptions = %d, but qSupported says 3", supportedThreadOptions)
	}
	main, second := inferior.ThreadID{PID: fakePID, TID: fakePID}, inferior.ThreadID{PID: fakePID, TID: fakePID + 1}
	steps := []struct {
		packet, reply string
		want          map[inferior.ThreadID]inferior.ThreadOptions
	}{
		{"QThreadOptions", "OK", map[inferior.ThreadID]inferior.ThreadOptions{}},
		{"QThreadOptions;3:p64.65", "OK", map[inferior.ThreadID]inferior.ThreadOptions{second: 3}},
		{"QThreadOptions;1", "OK", map[inferior.ThreadID]inferior.ThreadOptions{main: 1, second: 1}},
		{"QThreadOptions;2:p64.-1;0:p64.64", "OK", map[inferior.ThreadID]inferior.ThreadOptions{second: 2}},
		{"QThreadOptions;3:p99.99", "OK", map[inferior.ThreadID]inferior.ThreadOptions{second: 2}},
		{"QThreadOptions;3:64", "OK", map[inferior.ThreadID]inferior.ThreadOptions{main: 3, second: 2}},
		{"QThreadOptions;4:p64.64", "E02", map[inferior.ThreadID]inferior.ThreadOptions{main: 3, second: 2}},
		{"QThreadOptions;1;7", "E02", map[inferior.ThreadID]inferior.ThreadOptions{main: 3, second: 2}},
		{"QThreadOptions;3:p64.0", "E01", map[inferior.ThreadID]inferior.ThreadOptions{main: 3, second: 2}},
		{"QThreadOptions;0", "OK", map[inferior.ThreadID]inferior.ThreadOptions{}},
	}
	for _, st := range steps {
		if r := h.exchange(st.packet); r != st.reply {
			t.Errorf("%s: got %q, want %q", st.packet, r, st.reply)
		}
		if got := lt.threadOptionsOf(); !reflect.DeepEqual(got, st.want) {
			t.Errorf("after %s: options %v, want %v", st.packet, got, st.want)
		}
	}
}
