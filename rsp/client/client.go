package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"procgdb/inferior"
	"procgdb/rsp"
)

// Names this package shares with package rsp, so that a script needs only
// this package.
type (
	// ThreadID names a thread: PID and TID, where AllThreads (-1) means
	// every thread or process and AnyThread (0) lets the stub choose.
	// Without the multiprocess feature the stub does not name
	// processes, and PID is AnyThread.
	ThreadID = inferior.ThreadID
	// StopKind says why the target stopped (Stop.Kind).
	StopKind = inferior.EventKind
	// HWKind is the kind of a hardware breakpoint or watchpoint.
	HWKind = inferior.HWKind
	// Library is a shared object loaded in the process (Libraries).
	Library = inferior.Library
	// ReplyError is an error reply ("E NN" or "E.text") to a request,
	// with the request it answered.
	ReplyError = rsp.ReplyError
)

// Thread ids that stand for sets of threads.
const (
	AllThreads = inferior.All
	AnyThread  = inferior.Any
)

// Stop kinds; inferior.EventKind documents each.
const (
	StopSignal        = inferior.EventSignal
	StopBreakpoint    = inferior.EventBreakpoint
	StopStep          = inferior.EventStep
	StopExited        = inferior.EventExited
	StopKilled        = inferior.EventKilled
	StopFork          = inferior.EventFork
	StopVFork         = inferior.EventVFork
	StopVForkDone     = inferior.EventVForkDone
	StopExec          = inferior.EventExec
	StopSyscallEntry  = inferior.EventSyscallEntry
	StopSyscallReturn = inferior.EventSyscallReturn
	StopThreadCreated = inferior.EventThreadCreated
	StopThreadExited  = inferior.EventThreadExited
	StopNoResumed     = inferior.EventNoResumed
	StopHWBreakpoint  = inferior.EventHWBreakpoint
	StopWatchpoint    = inferior.EventWatchpoint
)

// Hardware point kinds, numbered as the Z packets number them.
const (
	HWBreakpoint = inferior.HWExec   // a hardware breakpoint
	HWWrite      = inferior.HWWrite  // a watchpoint on writes
	HWRead       = inferior.HWRead   // a watchpoint on reads
	HWAccess     = inferior.HWAccess // a watchpoint on reads and writes
)

// ErrUnsupported is in the chain of errors for requests the stub does not
// support: it answered with the empty reply.
var ErrUnsupported = rsp.ErrUnsupported

// interruptGrace bounds how long Wait waits for the stop an interrupt
// should cause, once its context is done; a stub that does not stop by
// then leaves the Client unusable.
const interruptGrace = 10 * time.Second

// defaultPacketSize is the manual's PacketSize when the stub does not
// give one, and maxChunk bounds what one request moves whatever the stub
// offers, within rsp.Client's limit on replies.
const (
	defaultPacketSize = 400
	maxChunk          = 1 << 20
)

// Dialer holds the options for connecting to a stub. The zero value
// connects with the defaults, as Dial and Start do.
type Dialer struct {
	// Output receives what the program prints through the stub (the
	// console output of O packets, which some stubs send while the
	// program runs); nil discards it.
	Output io.Writer
	// ForkEvents asks the stub to stop at forks and vforks (StopFork,
	// StopVFork, StopVForkDone); the child is then stopped until the
	// script resumes or detaches it. Without it stubs follow the parent
	// and let the child go.
	ForkEvents bool
	// ExecEvents asks the stub to stop when a process calls exec
	// (StopExec).
	ExecEvents bool
}

// Client is a typed connection to a stub. Its methods send requests and
// decode replies; errors name the request and what the stub said. A
// Client is not safe for concurrent use, except that Interrupt and Close
// may be called while another goroutine waits in Wait.
//
// Thread-specific requests (registers) take the thread as an argument.
// Memory, breakpoints and files apply to the process of the selected
// thread: after a stop, the thread that stopped; Select selects another.
type Client struct {
	raw    *rsp.Client
	output io.Writer
	req    []byte // a buffer for memory requests
	err    error  // set once the connection is in an unknown state

	// What was negotiated.
	features     map[string]string // the stub's qSupported reply
	packetSize   int
	multiprocess bool
	native       bool          // signals are Linux numbers (native-signals+)
	vcont        map[byte]bool // vCont actions offered, nil without vCont
	memRead      memMode       // how memory is read
	memWrite     memMode       // how memory is written; memUnknown until probed
	extended     bool          // extended mode is on
	passed       bool          // the stub took a QPassSignals
	desc         *Description  // the target description, once read

	// The stub's state, as far as the client knows it.
	sel      ThreadID // the stub's general thread (Hg), when selKnown
	selKnown bool
	fsPID    int // the file system vFile:setfs selected, when fsKnown
	fsKnown  bool
	points   map[pointKey]bool // the breakpoints and watchpoints set

	// Stops.
	lastStop   Stop     // the last stop seen
	running    bool     // a resume awaits its stop
	resumeReq  string   // the packet that resumed
	stepping   ThreadID // the thread a step resumed, for Wait
	pending    Stop     // the stop Wait returns without waiting, when
	hasPending bool     // a step-over ended the resume
}

// Dial connects to a stub at address on network ("tcp" or "unix") and
// negotiates with it; see Dialer.Dial.
func Dial(ctx context.Context, network, address string) (*Client, error) {
	var d Dialer
	return d.Dial(ctx, network, address)
}

// Start starts a stub that speaks RSP on its standard input and output
// (procgdb or gdbserver with COMM "-": Start(ctx, "procgdb", "-", prog)),
// with its standard error going to this process's, and connects to it;
// see Dialer.StartCommand.
func Start(ctx context.Context, name string, args ...string) (*Client, error) {
	var d Dialer
	cmd := exec.Command(name, args...)
	cmd.Stderr = os.Stderr
	return d.StartCommand(ctx, cmd)
}

// Dial connects to a stub at address on network ("tcp" or "unix") and
// negotiates with it: features, no-acknowledgment mode where offered, and
// the stub's current stop.
func (d *Dialer) Dial(ctx context.Context, network, address string) (*Client, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("client: dial: %w", err)
	}
	return d.NewClient(ctx, conn)
}

// StartCommand starts cmd, a stub that speaks RSP on its standard input
// and output, and connects to it. cmd's Stdin and Stdout must be nil; the
// stub's standard error is what cmd says (a stub started with "-" writes
// the program's output there). Close closes the stub's input, which ends
// it, and waits for it to exit.
func (d *Dialer) StartCommand(ctx context.Context, cmd *exec.Cmd) (*Client, error) {
	if cmd.Stdin != nil || cmd.Stdout != nil {
		return nil, errors.New("client: start: Stdin and Stdout must be nil")
	}
	p, err := newPipeConn(cmd)
	if err != nil {
		return nil, fmt.Errorf("client: start %s: %w", cmd.Path, err)
	}
	return d.NewClient(ctx, p)
}

// NewClient negotiates with the stub at the other end of conn and returns
// a Client that owns conn. If conn has deadlines (SetDeadline), ctx bounds
// the negotiation.
func (d *Dialer) NewClient(ctx context.Context, conn io.ReadWriteCloser) (*Client, error) {
	c := &Client{
		raw:    rsp.NewClient(conn),
		output: d.Output,
		points: make(map[pointKey]bool),
	}
	if err := c.withContext(ctx, func() error { return c.negotiate(d) }); err != nil {
		c.Close()
		return nil, fmt.Errorf("client: connect: %w", err)
	}
	return c, nil
}

// features the client offers in qSupported. The events are offered only
// when asked for (Dialer), because a stub then reports them at every
// resume.
const offered = "multiprocess+;swbreak+;hwbreak+;vContSupported+;no-resumed+;error-message+;binary-upload+;xmlRegisters=i386"

// negotiate agrees on features, acknowledgments, vCont and memory
// packets, and reads the current stop.
func (c *Client) negotiate(d *Dialer) error {
	q := "qSupported:" + offered
	if d.ForkEvents {
		q += ";fork-events+;vfork-events+"
	}
	if d.ExecEvents {
		q += ";exec-events+"
	}
	r, err := c.raw.Request(q)
	if err != nil {
		return err
	}
	c.features = parseFeatures(r)
	c.packetSize = defaultPacketSize
	if v, ok := c.features["PacketSize"]; ok {
		if n, err := strconv.ParseUint(v, 16, 31); err == nil && n > 32 {
			c.packetSize = int(n)
		}
	}
	c.multiprocess = c.Supports("multiprocess")
	c.native = c.Supports("native-signals")
	if c.Supports("QStartNoAckMode") {
		if err := c.raw.StartNoAck(); err != nil {
			return err
		}
	}
	if r, err := c.raw.Request("vCont?"); err == nil {
		c.vcont = parseVContActions(r)
	} else if !errors.Is(err, ErrUnsupported) {
		return err
	}
	if err := c.probeMemory(); err != nil {
		return err
	}
	c.passDefaultSignals()
	return c.haltReason()
}

// parseFeatures decodes a qSupported reply: "name+", "name-", "name?" or
// "name=value", separated by ';'.
func parseFeatures(r string) map[string]string {
	f := make(map[string]string)
	for item := range strings.SplitSeq(r, ";") {
		if name, val, ok := strings.Cut(item, "="); ok {
			f[name] = val
		} else if n := len(item); n > 1 && strings.ContainsAny(item[n-1:], "+-?") {
			f[item[:n-1]] = item[n-1:]
		}
	}
	return f
}

// parseVContActions decodes a vCont? reply ("vCont;c;C;s;S;r").
func parseVContActions(r string) map[byte]bool {
	rest, ok := strings.CutPrefix(r, "vCont")
	if !ok {
		return nil
	}
	acts := make(map[byte]bool)
	for a := range strings.SplitSeq(rest, ";") {
		if len(a) == 1 {
			acts[a[0]] = true
		}
	}
	return acts
}

// Supports reports whether the stub offered feature name in its
// qSupported reply ("name+"), such as "qXfer:threads:read" or
// "QCatchSyscalls".
func (c *Client) Supports(name string) bool {
	return c.features[name] == "+"
}

// Feature returns the value the stub gave feature name ("name=value"),
// such as "PacketSize".
func (c *Client) Feature(name string) (string, bool) {
	v, ok := c.features[name]
	return v, ok
}

// Raw returns the low-level client underneath, for packets this package
// does not cover. A script that changes the stub's state through it (the
// selected thread, say) must not expect this Client to know.
func (c *Client) Raw() *rsp.Client {
	return c.raw
}

// Close closes the connection, which leaves the target to the stub:
// procgdb keeps it stopped for the next client, gdbserver --once exits
// and kills what it started. A stub started by Start is then waited for
// (and killed if it does not exit within a few seconds).
func (c *Client) Close() error {
	return c.raw.Close()
}

// request sends payload and returns the reply, turning the empty reply and
// error replies into errors. Once the connection is in an unknown state
// (a wait that failed), every request fails.
func (c *Client) request(payload string) (string, error) {
	if err := c.ready(payload); err != nil {
		return "", err
	}
	r, err := c.raw.Request(payload)
	if err != nil {
		c.fail(err)
	}
	return r, err
}

// ready returns why the Client cannot make request what now, if it
// cannot: its connection failed, or the target runs.
func (c *Client) ready(what string) error {
	if c.err != nil {
		return c.err
	}
	if c.running {
		return fmt.Errorf("client: %.40s: %w", what, errRunning)
	}
	return nil
}

// xfer reads a whole qXfer object.
func (c *Client) xfer(object, annex string) ([]byte, error) {
	if err := c.ready("qXfer:" + object); err != nil {
		return nil, err
	}
	b, err := c.raw.ReadXfer(object, annex)
	if err != nil {
		c.fail(err)
	}
	return b, err
}

// errRunning is the error of requests made between Resume and Wait.
var errRunning = errors.New("client: the target is running; Wait for its stop first")

// fail records err as the end of the connection if it is not a reply the
// stub chose (an error reply or the empty reply): after an I/O error the
// next reply may be this request's.
func (c *Client) fail(err error) {
	var re *ReplyError
	if c.err == nil && !errors.As(err, &re) && !errors.Is(err, ErrUnsupported) {
		c.err = fmt.Errorf("client: connection lost: %w", err)
	}
}

// requestOK sends payload, which must be answered "OK".
func (c *Client) requestOK(payload string) error {
	r, err := c.request(payload)
	if err != nil {
		return err
	}
	if r != "OK" {
		return fmt.Errorf("%.40s: unexpected reply %.40q", payload, r)
	}
	return nil
}

// withContext runs f, which talks to the stub, within ctx: when ctx is
// done first the connection's deadline cuts f short (if the connection
// has deadlines), and the Client is left unusable.
func (c *Client) withContext(ctx context.Context, f func() error) error {
	if ctx.Done() == nil {
		return f()
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.raw.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	err := f()
	if !stop() {
		<-fired
		c.raw.SetDeadline(time.Time{})
		if err != nil {
			c.fail(err)
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
	}
	return err
}
