package rsp

// The dialect: gdb and lldb agree on most of the protocol but not all.
// lldb does not announce its extensions in qSupported: it probes each with
// a packet of its own and takes the empty reply as "not supported". So a
// session speaks gdb's dialect until the client shows it is lldb, and
// everything that differs is decided here, in one value that the handlers
// ask:
//
//   - Signal numbers. gdb numbers signals its own way (signals.go); lldb
//     reads the numbers in stop replies and resume packets as the
//     target's own once it knows the target runs Linux (lldb 14 does so
//     unconditionally; later versions when the stub offers
//     native-signals+). A session uses Linux's numbers from the moment
//     the client shows it is lldb: its qSupported offers xmlRegisters but
//     none of the features every gdb since 7.12 offers (swbreak+,
//     vContSupported+, qRelocInsn+), or it sends one of lldb's own
//     packets, all of which lldb sends before its first '?'.
//   - Error replies: "E NN", "E.text" once the client offered
//     error-message+, or lldb's "EXX;HEX-TEXT" once it sent
//     QEnableErrorStrings (errors.go).
//   - The binary memory read x: gdb's reply starts with 'b', lldb's is
//     the bytes alone and answers the probe x0,0 with OK (memory.go).
//   - The thread suffix: after QThreadSuffixSupported, g, G, p, P,
//     QSaveRegisterState and QRestoreRegisterState may end in
//     ";thread:TID;", which names the thread for that packet alone
//     instead of Hg (withThread).
//   - Stop replies: once lldb has spoken (any of its packets, qHostInfo
//     included), T replies also carry the thread's name (name: or
//     hexname:) and a reason: (breakpoint, trace, signal, exec, ...); after
//     QListThreadsInStopReply they list every thread of the process and
//     its PC (threads:, thread-pcs:) and, with several threads, jstopinfo:
//     (stop.go). And an interrupt lasts one run (noteInterrupt).
//
// gdb never sees any of lldb's side. lldb's other packets are in their
// families' files (qHostInfo in query.go, qRegisterInfo in registers.go,
// qMemoryRegionInfo in memory.go, qModuleInfo in modules.go, ...);
// procgdb answers no qPlatform_shell or other packet that runs commands.

// dialectPackets are the dispatch-table rows of lldb's packets that choose
// its dialect.
func dialectPackets() []entry {
	return []entry{
		{prefix: "QThreadSuffixSupported", handle: (*Session).threadSuffixSupported},
		{prefix: "QListThreadsInStopReply", handle: (*Session).listThreadsInStopReply},
		{prefix: "QEnableErrorStrings", handle: (*Session).enableErrorStrings},
	}
}

// dialect is how a session speaks where its clients differ. Its zero
// value is gdb's dialect before qSupported; only the methods in this file
// change it.
type dialect struct {
	// lldb: the client sent one of lldb's own packets. T replies carry
	// the thread's name and lldb's reason:, and an interrupt lasts one
	// run.
	lldb bool
	// native: signal numbers on the wire are Linux's, instead of gdb's.
	native bool
	// errors is the form of error replies.
	errors errorFormat
	// gdbBinary: x replies in gdb's form, else in lldb's.
	gdbBinary bool
	// threadSuffix: packets may end in lldb's thread suffix.
	threadSuffix bool
	// listThreads: T replies list the threads of the process.
	listThreads bool
	// rle: replies are run-length encoded (compressRuns), for a client
	// that is gdb by its features; every gdb expands them, and lldb is
	// not asked to.
	rle bool
}

// errorFormat is the form of error replies (errors.go).
type errorFormat uint8

const (
	errorNN   errorFormat = iota // "E NN"
	errorText                    // "E.text"
	errorLLDB                    // "EXX;HEX-TEXT"
)

// negotiate adapts the dialect to the features a client offered in
// qSupported. lldb's error strings, once asked for, stay.
func (d *dialect) negotiate(f clientFeatures) {
	gdb := f.offered("swbreak") || f.offered("vContSupported") || f.offered("qRelocInsn")
	_, xml := f["xmlRegisters"]
	d.native = xml && !gdb
	d.gdbBinary = gdb || f.offered("binary-upload")
	d.rle = gdb && !d.lldb
	if d.errors != errorLLDB {
		d.errors = errorNN
		if f.offered("error-message") {
			d.errors = errorText
		}
	}
}

// speakLLDB switches to lldb's dialect: the client sent one of lldb's
// own packets.
func (d *dialect) speakLLDB() { d.lldb, d.native, d.rle = true, true, false }

// toWire returns the number the client uses for host signal sig.
func (d dialect) toWire(sig int) int { return wireSignal(sig, d.native) }

// signalNumber is a signal number from the client and the host signal
// it stands for; ok is false when it stands for none.
type signalNumber struct {
	wire, host int
	ok         bool
}

// fromWire translates a signal number from the client.
func (d dialect) fromWire(sig int) signalNumber {
	if d.native {
		return signalNumber{sig, sig, sig > 0 && sig <= hostSignalMax}
	}
	host, ok := hostSignal(sig)
	return signalNumber{sig, host, ok}
}

// passedSignals returns the host signals that a QPassSignals list of
// the client's numbers lets through.
func (d dialect) passedSignals(sigs []int) []int {
	if !d.native {
		return passedHostSignals(sigs)
	}
	host := make([]int, 0, len(sigs))
	for _, sig := range sigs {
		if h := d.fromWire(sig); h.ok {
			host = append(host, h.host)
		}
	}
	return host
}

// appendError appends the error reply for err.
func (d dialect) appendError(dst []byte, err error) []byte {
	if d.errors == errorLLDB {
		return appendLLDBError(dst, err)
	}
	return appendError(dst, err, d.errors == errorText)
}

// binaryRead says how x answers a read of length bytes: with prefix and
// the bytes read, or, when probe is set, with OK alone (lldb's probe
// x0,0).
func (d dialect) binaryRead(length uint64) (prefix string, probe bool) {
	if d.gdbBinary {
		return "b", false
	}
	return "", length == 0
}

// threadSuffixSupported answers QThreadSuffixSupported: packets may end
// in a thread suffix from now on.
func (s *Session) threadSuffixSupported(args []byte) reply {
	return s.chooseLLDB(args, func(d *dialect) { d.threadSuffix = true })
}

// listThreadsInStopReply answers QListThreadsInStopReply: T replies list
// the threads of the process from now on.
func (s *Session) listThreadsInStopReply(args []byte) reply {
	return s.chooseLLDB(args, func(d *dialect) { d.listThreads = true })
}

// enableErrorStrings answers QEnableErrorStrings: error replies are
// "EXX;HEX-TEXT" from now on.
func (s *Session) enableErrorStrings(args []byte) reply {
	return s.chooseLLDB(args, func(d *dialect) { d.errors = errorLLDB })
}

// chooseLLDB answers a packet that chooses part of lldb's dialect, which
// set turns on.
func (s *Session) chooseLLDB(args []byte, set func(*dialect)) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	s.dialect.speakLLDB()
	set(&s.dialect)
	return okReply
}
