package rsp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"procgdb/inferior"
)

// packetSize is the PacketSize procgdb advertises: the longest packet the
// client may send, counted in payload bytes on the wire. Memory reads and
// qXfer windows are capped so that replies stay near it as well. A MiB
// lets a client read memory in few round trips (gdbserver offers 0x47ff,
// lldb-server 128 KiB) while the session's buffers stay a few MiB.
const packetSize = 0x100000

// readLimit is the longest payload the stub's reader accepts. It leaves
// room for a client that escapes every byte of a binary X packet.
const readLimit = 2*packetSize + 64

// Config configures a Session.
type Config struct {
	// Logger receives the session's logs; nil discards them.
	Logger *slog.Logger
	// WireLog, when not nil, logs every packet in and out at Info level,
	// shortened to a fixed length. Whether its handler is enabled for
	// Info is asked at every packet, so that a slog.LevelVar turns the
	// packet log on and off while sessions run (`monitor set
	// remote-debug`).
	WireLog *slog.Logger
	// TargetXML is the target description served as
	// qXfer:features:read:target.xml (see regs.Layout.TargetXML). When it
	// is empty the feature is not offered.
	TargetXML []byte
	// Attached answers qAttached: true if procgdb attached to pid rather
	// than launched it. When it is nil qAttached is offered only if the
	// Target is a Launcher, and answers 1 for the processes the session
	// attached to with vAttach; without qAttached gdb assumes it launched
	// the process.
	Attached func(pid int) bool

	// Launch settings, for a Target that is a Launcher (vRun and R; see
	// extended.go). The client changes them for its session with
	// QEnvironment*, QSetWorkingDir, QStartupWithShell and
	// QDisableRandomization (on by default, as in gdb).
	//
	// Environ is the environment programs start with before the client
	// changes it, and what QEnvironmentReset returns to; nil means
	// procgdb's own, os.Environ() when the session is made.
	Environ []string
	// Shell runs programs while startup-with-shell is on (LaunchSpec.Shell);
	// "" means /bin/sh. procgdb fills it from $SHELL, as gdbserver does.
	Shell string
	// NoStartupWithShell starts programs without a shell until the client
	// sends QStartupWithShell:1 (gdbserver's --no-startup-with-shell).
	NoStartupWithShell bool
	// Program and Args are what R and a vRun without a program name run
	// until the client names one with vRun: the program procgdb's command
	// line started, if any, with its arguments after argv[0].
	Program string
	Args    []string
	// Files, when not nil, gives the session its host I/O (the vFile
	// packets, file.go): it is called on the first vFile packet, and the
	// FileSystem it returns is closed when Serve returns, so that each
	// client has its own descriptors. When it is nil, vFile packets get
	// the empty reply.
	Files func() (FileSystem, error)

	// Monitor, when not nil, runs the client's monitor commands (qRcmd,
	// monitor.go); without it qRcmd gets the empty reply.
	Monitor MonitorFunc
	// Disable turns parts of the protocol off (disable.go).
	Disable Disabled

	// WriteTimeout bounds each write to the client, and PacketTimeout the
	// time from a packet's '$' to its checksum (deadline.go); when one
	// runs out the session ends as a disconnect. 0 means the default
	// (DefaultWriteTimeout, DefaultPacketTimeout), a negative value no
	// limit. They apply to connections with deadlines, such as a net.Conn.
	WriteTimeout  time.Duration
	PacketTimeout time.Duration
}

// Outcome says how Serve ended.
type Outcome int

// Outcomes of Serve. In extended mode ('!') the session outlives its
// processes, and Serve ends only with OutcomeDisconnected.
const (
	// OutcomeDisconnected: the connection ended or ctx was done; the
	// processes are as the client left them (possibly running).
	OutcomeDisconnected Outcome = iota + 1
	// OutcomeDetached: the client detached (D) from every process.
	OutcomeDetached
	// OutcomeKilled: the client killed every process (k, vKill).
	OutcomeKilled
	// OutcomeExited: the last process exited or was killed by a signal,
	// and the client was told with a W or X stop reply.
	OutcomeExited
	// OutcomeYielded: Yield was called. The session stopped between two
	// packets and keeps all it knows of its client: another call of
	// Serve (on another goroutine, with another Target) serves it on.
	OutcomeYielded
)

// String returns the outcome's name, for logs.
func (o Outcome) String() string {
	switch o {
	case OutcomeDisconnected:
		return "disconnected"
	case OutcomeDetached:
		return "detached"
	case OutcomeKilled:
		return "killed"
	case OutcomeExited:
		return "exited"
	case OutcomeYielded:
		return "yielded"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Session serves one client connection in all-stop mode: it reads
// packets, answers them from the Target, and while the target runs keeps
// reading so that the interrupt byte and a disconnect are noticed.
type Session struct {
	t       Target
	cfg     Config
	log     *slog.Logger
	conn    *conn
	packets []entry // the dispatch table, from packetTable

	// Features negotiated with qSupported.
	multiprocess bool // thread ids are pPID.TID; W and X name the process
	swbreak      bool // stop replies say swbreak at software breakpoints
	hwbreak      bool // and hwbreak at hardware breakpoints
	// dialect is how the session speaks where gdb and lldb differ
	// (dialect.go).
	dialect dialect
	// events are the optional events the client asked for (events.go).
	events inferior.EventOptions

	// ext is the extended-mode state and the launch settings
	// (extended.go).
	ext extendedState

	// general and cont are the Hg and Hc selections. inferior.Any and
	// inferior.All are kept as the client sent them; a specific thread
	// was checked to exist and has its PID filled in.
	general inferior.ThreadID
	cont    inferior.ThreadID
	// last is the stop most recently reported, replayed by '?'; hasLast
	// is false until the first stop, when '?' reports the initial state.
	last    inferior.Event
	hasLast bool
	// ns is the state of non-stop mode (nonstop.go).
	ns nonStopState
	// interruptPending: the client sent the interrupt byte and has not
	// been told of a stop with SIGINT since (noteInterrupt).
	interruptPending bool

	// threadList holds the ids qfThreadInfo listed that qsThreadInfo has
	// yet to send.
	threadList []inferior.ThreadID
	// xferKey names the qXfer object whose document xferDoc holds, so
	// that reading it in windows sees one consistent snapshot.
	xferKey string
	xferDoc []byte

	// files is the client's host I/O (file.go).
	files fileState

	// saves are lldb's saved register states (QSaveRegisterState), and
	// allocs the sizes of the memory lldb allocated with _M, by address.
	saves  registerSaves
	allocs map[uint64]uint64

	// buf builds replies; mem holds memory and register bytes before
	// they are encoded. Both are reused from packet to packet.
	buf []byte
	mem []byte
	// out is where memory replies are built already framed; it is handed
	// to the connection, which hands back the previous packet's buffer.
	out []byte
	// esc holds the positions of bytes to escape in a binary reply.
	esc []int
}

// NewSession returns a session that serves the client on rw, debugging t.
// The session reads and writes rw from Serve's start; its reading
// goroutine may outlive Serve until the caller closes rw. A Serve blocked
// writing to a client that does not read also ends when rw is closed.
func NewSession(rw io.ReadWriter, t Target, cfg Config) *Session {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		t:       t,
		cfg:     cfg,
		log:     logger,
		conn:    newConn(withDeadlines(rw, cfg), readLimit, false, cfg.WireLog),
		packets: packetTable(),
		ext:     newExtendedState(cfg),
		general: inferior.ThreadID{PID: inferior.Any, TID: inferior.Any},
		cont:    inferior.ThreadID{PID: inferior.Any, TID: inferior.Any},
	}
	s.conn.setReadDeadlines(rw, timeout(cfg.PacketTimeout, DefaultPacketTimeout))
	return s
}

// Yield makes Serve return OutcomeYielded between two packets: once the
// packet it is answering (if any) has its reply, and before it reads the
// next, which stays buffered for the next Serve. A Serve waiting for the
// client's next packet returns at once. procgdb's daemon moves a client
// that watched a process (an observer, served on a goroutine of its own)
// to the process's tracer this way when it becomes the one that controls
// it. Yield may be called from any goroutine, also before Serve starts;
// it needs a connection with a read deadline (a net.Conn), and returns
// false on one without, where it does nothing.
func (s *Session) Yield() bool { return s.conn.requestYield() }

// SetTarget makes t the session's Target: after Serve returned
// OutcomeYielded, for the next Serve. t should offer the optional
// interfaces the old Target did, which the client was told of.
func (s *Session) SetTarget(t Target) { s.t = t }

// replyKind says what a handler answers.
type replyKind uint8

const (
	replyEmpty  replyKind = iota // the empty reply: packet not supported
	replyOK                      // "OK"
	replyError                   // an error reply for err
	replyData                    // data as it is (text, hex, or binary: the framing escapes it)
	replyResume                  // no reply yet: resume with actions, reply with the stop
	replyNone                    // no reply at all (R, and k in extended mode)
)

// reply is a handler's answer to one packet. Handlers never write to the
// connection: Serve turns replies into packets.
type reply struct {
	kind replyKind
	data []byte // replyData; may alias the session's buffers
	// framed says data is a whole packet, framed by the handler ('$',
	// escaped payload, '#', checksum): memory replies (memory.go).
	framed  bool
	err     error             // replyError
	actions []inferior.Action // replyResume
	// end, when not zero, ends Serve with this outcome after the reply.
	end Outcome
	// noAck turns acknowledgments off after the reply (QStartNoAckMode).
	noAck bool
	// console is text sent as O packets before the reply (monitor.go).
	console []byte
	// after, when not nil, runs once the reply has been sent.
	after func()
}

var okReply = reply{kind: replyOK}

func errorReply(err error) reply  { return reply{kind: replyError, err: err} }
func dataReply(data []byte) reply { return reply{kind: replyData, data: data} }
func framedReply(p []byte) reply  { return reply{kind: replyData, data: p, framed: true} }
func textReply(text string) reply { return reply{kind: replyData, data: []byte(text)} }
func endReply(r reply, o Outcome) reply {
	r.end = o
	return r
}

// entry is one packet the session handles.
type entry struct {
	// prefix is the packet's name. A packet matches the longest prefix
	// it starts with, provided the name ends there: prefixes of one
	// letter and prefixes ending in ':' or ';' take any arguments, longer
	// names must be followed by ':', ';', ',' or the end of the packet
	// (so qC does not answer qCRC).
	prefix string
	// feature is what qSupported advertises for this packet, if anything.
	feature string
	// enabled, when not nil, says whether the session offers the packet;
	// a disabled packet gets the empty reply and is not advertised.
	enabled func(*Session) bool
	// handle answers the packet; args is what follows the prefix.
	handle func(s *Session, args []byte) reply
	// anyArgs lets arguments follow the name directly, as in lldb's
	// qRegisterInfo1a and _M100,rx.
	anyArgs bool
}

// match returns the packet's arguments if p is this entry's packet.
func (e *entry) match(p []byte) ([]byte, bool) {
	if !bytes.HasPrefix(p, []byte(e.prefix)) {
		return nil, false
	}
	args := p[len(e.prefix):]
	if len(e.prefix) == 1 || e.anyArgs || len(args) == 0 || strings.ContainsAny(e.prefix[len(e.prefix)-1:], ":;") {
		return args, true
	}
	return args, strings.IndexByte(":;,", args[0]) >= 0
}

// packetTable returns the dispatch table, longest prefix first. Each
// packet family declares its rows in its own file (memoryPackets in
// memory.go, ...). qSupported is built from the table, so what is
// advertised is exactly what is handled, in the order of the families
// here. (It is a function because qSupported's handler reads the table.)
func packetTable() []entry {
	return sortedByPrefix(slices.Concat(
		memoryPackets(),
		multiMemPackets(),
		searchPackets(),
		registerPackets(),
		resumePackets(),
		breakpointPackets(),
		queryPackets(),
		stopPackets(),
		monitorPackets(),
		xferPackets(),
		killPackets(),
		extendedPackets(),
		eventPackets(),
		filePackets(),
		tlsPackets(),
		dialectPackets(),
		modulePackets(),
		nonStopPackets(),
	))
}

func sortedByPrefix(es []entry) []entry {
	slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return es
}

// offered reports whether the session handles packets of entry e.
func (s *Session) offered(e *entry) bool { return e.enabled == nil || e.enabled(s) }

// dispatch answers one packet.
func (s *Session) dispatch(p []byte) reply {
	for i := range s.packets {
		e := &s.packets[i]
		args, ok := e.match(p)
		if !ok {
			continue
		}
		if !s.offered(e) {
			return reply{}
		}
		r := e.handle(s, args)
		if r.kind == replyError {
			r.err = fmt.Errorf("%s: %w", strings.TrimRight(e.prefix, ":;"), r.err)
		}
		return r
	}
	return reply{}
}

// noArgs rejects arguments after a packet that takes none.
func noArgs(args []byte) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected arguments %q: %w", args, errMalformed)
	}
	return nil
}

// Serve runs the session until the client detaches (D), kills (k), the last
// process is gone and reported, the connection ends, or ctx is done; in
// extended mode only the last two end it. It returns a nil error for
// those ends, and an error only when the connection failed otherwise
// (ctx's error when ctx is done).
//
// Serve works on the calling goroutine alone (see the package
// documentation). A read or write of the connection blocks it: the caller
// ends the session early (ctx done) by making those fail, closing the
// connection. Serve may be called once, and again after each time it
// returned OutcomeYielded (Yield).
func (s *Session) Serve(ctx context.Context) (out Outcome, err error) {
	defer func() {
		if out != OutcomeYielded {
			s.leaveNonStop()
			s.closeFiles()
		}
	}()
	// A new client starts with no optional events, whatever the last
	// one asked for; a session served on after Yield brings its own to
	// its new Target.
	s.applyEvents()
	s.clearThreadOptions()

	for {
		if s.conn.takeYield() {
			return OutcomeYielded, nil
		}
		if s.ns.on {
			if err := s.awaitClient(ctx); err != nil {
				if ctx.Err() != nil {
					return OutcomeDisconnected, ctx.Err()
				}
				return OutcomeDisconnected, fmt.Errorf("rsp: non-stop: %w", err)
			}
		}
		f, err := s.readFrame()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && s.conn.takeYield() {
				return OutcomeYielded, nil
			}
			if ctx.Err() != nil {
				return OutcomeDisconnected, ctx.Err()
			}
			return OutcomeDisconnected, disconnectError(err)
		}
		var r reply
		switch f.kind {
		case frameInterrupt:
			if s.ns.on {
				r = s.vCtrlC(nil)
				if r.kind == replyError {
					s.log.Warn("interrupt", "err", r.err)
				}
				continue
			}
			// The target is stopped: the client sent the byte while it
			// thought it running, and the stop reply crossed it.
			s.noteInterrupt()
			continue
		case frameRejected:
			r = errorReply(f.err)
		case framePacket:
			r = s.serveOne(f.payload)
		}
		var out Outcome
		if r.kind == replyResume {
			out, err = s.run(ctx, r.actions)
		} else {
			out, err = s.reply(r)
		}
		if out != 0 || err != nil {
			return out, err
		}
	}
}

// disconnectError returns nil for a connection the client closed between
// packets (a reset means it closed with our acknowledgments unread), else
// err with context.
func disconnectError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	return fmt.Errorf("rsp: read: %w", err)
}

// reply sends r and applies what it asks for after it. It returns a
// non-zero outcome when the session ends.
func (s *Session) reply(r reply) (Outcome, error) {
	if r.after != nil {
		defer r.after()
	}
	if r.kind == replyNone {
		return r.end, nil
	}
	if err := s.sendConsole(r.console); err != nil {
		return OutcomeDisconnected, err
	}
	if err := s.send(r); err != nil {
		return OutcomeDisconnected, err
	}
	if r.noAck {
		s.conn.setAck(false)
	}
	return r.end, nil
}

// send writes reply r.
func (s *Session) send(r reply) error {
	var p []byte
	switch r.kind {
	case replyEmpty:
	case replyOK:
		p = []byte("OK")
	case replyError:
		s.log.Debug("error reply", "err", r.err)
		p = s.dialect.appendError(s.buf[:0], r.err)
		s.buf = p
	case replyData:
		if r.framed {
			spare, err := s.conn.writeFramed(r.data)
			s.out = spare
			return err
		}
		p = r.data
	}
	return s.conn.writeReply(p, s.dialect.rle)
}

// noteInterrupt records that the client sent the interrupt byte. gdb
// expects every interrupt to end in a stop with SIGINT, even one that
// crossed a stop reply on the wire or came while the stub stepped a thread
// over a breakpoint for gdb, which then resumes at once (gdbserver makes
// each interrupt a real SIGINT, pending until the program runs again). So
// an interrupt stays pending until a stop with SIGINT is reported
// (recordStop), and a resume while one is pending reports it at once
// (run). lldb takes whatever stop answers its interrupt for the answer:
// for lldb an interrupt lasts one run.
func (s *Session) noteInterrupt() {
	s.interruptPending = !s.dialect.lldb
}

// interruptStop is the stop that reports a pending interrupt on a resume
// with actions: a SIGINT stop of the thread the first action names, or of
// one of the threads it resumes, which all stay stopped.
func (s *Session) interruptStop(actions []inferior.Action) (inferior.Event, error) {
	t := inferior.ThreadID{PID: inferior.Any, TID: inferior.Any}
	if len(actions) > 0 {
		t = inferior.ThreadID{PID: actions[0].PID, TID: actions[0].TID}
	}
	t, err := s.pickThread(t)
	if err != nil {
		return inferior.Event{}, err
	}
	return inferior.Event{Kind: inferior.EventSignal, PID: t.PID, TID: t.TID, Signal: int(unix.SIGINT)}, nil
}

// run resumes the target and waits until it stops, meanwhile passing the
// interrupt byte on to the target, then sends the stop reply. A client that
// disconnects while the target runs ends the wait and the session.
func (s *Session) run(ctx context.Context, actions []inferior.Action) (Outcome, error) {
	if s.ns.on {
		return s.resumeNonStop(actions)
	}
	if s.interruptPending {
		ev, err := s.interruptStop(actions)
		if err == nil {
			return s.stopped(ev)
		}
		s.log.Warn("pending interrupt", "err", err)
	}
	if err := s.t.Resume(actions); err != nil {
		return 0, s.send(errorReply(fmt.Errorf("resume: %w", err)))
	}
	// Documents and lists read in windows describe one stop only.
	s.dropSnapshots()
	for {
		// Bytes the client sent with its resume may be read already.
		if !s.conn.buffered() {
			ev, stopped, err := s.t.WaitStop(ctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return OutcomeDisconnected, ctx.Err()
			case err != nil:
				return 0, s.send(errorReply(fmt.Errorf("wait: %w", err)))
			case stopped:
				return s.stopped(ev)
			}
		}
		f, err := s.readFrame()
		switch {
		case err != nil:
			return OutcomeDisconnected, disconnectError(err)
		case f.kind == frameInterrupt:
			s.noteInterrupt()
			if err := s.t.Interrupt(); err != nil {
				s.log.Warn("interrupt", "err", err)
			}
		case f.kind == framePacket:
			// In all-stop mode the client waits for the stop reply
			// before it sends anything but the interrupt byte.
			s.log.Warn("packet while the target runs ignored", "packet", string(f.payload))
		}
	}
}

// stopped records a stop and reports it to the client.
func (s *Session) stopped(ev inferior.Event) (Outcome, error) {
	s.recordStop(ev)
	s.buf = s.appendStop(s.buf[:0], ev)
	if err := s.send(dataReply(s.buf)); err != nil {
		return OutcomeDisconnected, err
	}
	if (ev.Kind == inferior.EventExited || ev.Kind == inferior.EventKilled) && !s.ext.on && len(s.t.Processes()) == 0 {
		return OutcomeExited, nil
	}
	return 0, nil
}

// Refuse answers a client that may not be served at all: it reads the
// client's first packet (gdb's qSupported, lldb's QStartNoAckMode) and
// answers it with an error reply that carries reason as text, E.reason,
// then waits for the client's next packet, or its end, and returns
// without answering it; the caller closes rw, and the client learns
// nothing else. gdb shows the reply ("warning: Remote failure reply:
// E.reason") only once it has acknowledged it, which a connection closed
// at once would prevent. Each wait lasts at most DefaultPacketTimeout
// where rw has read deadlines.
func Refuse(rw io.ReadWriter, reason error) error {
	d, _ := rw.(interface{ SetReadDeadline(time.Time) error })
	c := newConn(withDeadlines(rw, Config{}), readLimit, false, nil)
	next := func() error {
		if d != nil {
			_ = d.SetReadDeadline(time.Now().Add(DefaultPacketTimeout))
		}
		for {
			f, err := c.readFrame()
			if err != nil || f.kind != frameInterrupt {
				return err
			}
		}
	}
	if err := next(); err != nil {
		return fmt.Errorf("rsp: refuse: %w", err)
	}
	if err := c.writePacket(appendError(nil, reason, true)); err != nil {
		return err
	}
	if err := next(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		return fmt.Errorf("rsp: refuse: %w", err)
	}
	return nil
}
