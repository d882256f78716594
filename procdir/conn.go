//go:build linux

package procdir

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Conn is a connection to DIR/PID, or to another socket of procgdb's
// (NewConn).
type Conn struct {
	*net.UnixConn
	// PID is the process whose socket the peer connected to, 0 for a
	// socket that names none.
	PID int
	// Cred is the peer's process and effective ids when it connected
	// (SO_PEERCRED), kept by the kernel.
	Cred unix.Ucred
	// peer and target are pidfds of the peer's process and of PID's:
	// they tell whether the processes that Check reads from /proc are
	// still the ones that connected and were connected to. peer is nil
	// when the peer was gone before it could be opened.
	peer, target *os.File
}

// newConn accepts a connection on listening socket lfd, DIR/PID for
// process pid, whose pidfd is pidfd. It fails with EAGAIN when none
// waits.
func newConn(lfd, pid, pidfd int) (*Conn, error) {
	nfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(nfd), "procdir/"+strconv.Itoa(pid))
	defer f.Close()
	c, err := withPeer(nfd)
	if err != nil {
		return nil, err
	}
	c.PID = pid
	target, err := unix.FcntlInt(uintptr(pidfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("pidfd: %w", err)
	}
	c.target = os.NewFile(uintptr(target), "target pidfd")
	nc, err := net.FileConn(f)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.UnixConn = nc.(*net.UnixConn)
	return c, nil
}

// withPeer returns a Conn (without its connection) that knows the peer
// of connected socket fd.
func withPeer(fd int) (*Conn, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", err)
	}
	// The pidfd the kernel took at connect, where it has SO_PEERPIDFD
	// (Linux 6.5); else one opened now, with the PID possibly another
	// process's already: Check then sees other credentials, as it does
	// after a set-user-ID exec (see Races in the package documentation).
	peer, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PEERPIDFD)
	if err != nil && cred.Pid > 0 {
		peer, err = unix.PidfdOpen(int(cred.Pid), 0)
	}
	c := &Conn{Cred: *cred}
	if err == nil {
		c.peer = os.NewFile(uintptr(peer), "peer pidfd")
	}
	return c, nil
}

// NewConn makes a Conn of a connection procgdb accepted on a socket of
// its own that names no process (its control socket, where a client
// names the process inside the protocol): PID is 0, and CheckProcess
// decides for each process the peer asks for. The Conn owns uc.
func NewConn(uc *net.UnixConn) (*Conn, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var c *Conn
	cerr := raw.Control(func(fd uintptr) { c, err = withPeer(int(fd)) })
	if cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	c.UnixConn = uc
	return c, nil
}

// Check decides whether the peer may debug process PID, as the kernel
// would decide whether the peer may ptrace it (see the package Check),
// reading both processes from /proc now. It returns nil, a *Refusal
// whose text is for the person at the debugger (for an E. reply), or an
// error reading /proc, which refuses too.
//
// Call it before serving the connection, again once attached to the
// process, and at each exec of the process while attached: see Races in
// the package documentation for why.
func (c *Conn) Check() error { return c.check(c.PID, c.target) }

// CheckProcess is Check for another process than PID: one the peer's
// tracer follows into a fork, say, which runs another program.
func (c *Conn) CheckProcess(pid int) error {
	if pid == c.PID {
		return c.Check()
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return &Refusal{PID: pid, Reason: fmt.Sprintf("process %d does not exist", pid)}
	}
	f := os.NewFile(uintptr(fd), "target pidfd")
	defer f.Close()
	return c.check(pid, f)
}

// check decides whether the peer may debug process pid, whose pidfd is
// target.
func (c *Conn) check(pid int, target *os.File) error {
	if target == nil {
		return &Refusal{PID: pid, Reason: "this socket names no process"}
	}
	peer, _, err := c.readPeer(pid)
	if err != nil {
		return err
	}
	t, err := ReadTarget(pid)
	if exited(int(target.Fd())) {
		return &Refusal{PID: pid, Reason: fmt.Sprintf("process %d has exited", pid)}
	}
	if err != nil {
		return fmt.Errorf("process %d: %w", pid, err)
	}
	scope, err := ReadYama()
	if err != nil {
		return err
	}
	return Check(peer, t, scope)
}

// readPeer reads the peer from /proc and makes sure, after reading, that
// it is still the process that connected, with the effective ids it
// connected with.
func (c *Conn) readPeer(target int) (Peer, status, error) {
	refuse := func(reason string) (Peer, status, error) {
		return Peer{}, status{}, &Refusal{PID: target, Reason: reason}
	}
	if c.Cred.Pid <= 0 {
		return refuse("your debugger's process is not visible in procgdb's PID namespace")
	}
	pid := int(c.Cred.Pid)
	st, err := readStatus(pid)
	var p Peer
	if err == nil {
		p, err = peerOf(pid, st)
	}
	switch {
	case c.peer == nil || exited(int(c.peer.Fd())) || errors.Is(err, os.ErrNotExist):
		return refuse("your debugger's process has exited")
	case err != nil:
		return Peer{}, st, fmt.Errorf("your debugger's process %d: %w", pid, err)
	case st.uid.Effective != c.Cred.Uid || st.gid.Effective != c.Cred.Gid:
		return refuse("your debugger's process changed its credentials after connecting")
	}
	return p, st, nil
}

// Credentials are what procgdb acts with for a peer rather than with its
// own rights: a program it starts for the peer (gdb's run) runs with
// UID, GID and Groups, and the files it opens for the peer (gdb's host
// I/O) are opened with those ids and the capabilities CapEff.
type Credentials struct {
	// UID and GID are the peer's real ids, which Check compares.
	UID, GID uint32
	Groups   []uint32
	CapEff   Caps
}

// Credentials reads the peer's credentials from /proc now, making sure
// as Check does that it is still the process that connected, with the
// ids it connected with.
func (c *Conn) Credentials() (Credentials, error) {
	p, st, err := c.readPeer(c.PID)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{UID: p.UID, GID: p.GID, Groups: st.groups, CapEff: p.CapEff}, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	for _, f := range []*os.File{c.peer, c.target} {
		if f != nil {
			f.Close()
		}
	}
	if c.UnixConn == nil {
		return nil
	}
	return c.UnixConn.Close()
}
