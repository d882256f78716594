package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	"procgdb/procdir"
	"procgdb/rsp"
	"procgdb/target"
)

// The daemon's control socket, DIR/control: gdb's target extended-remote,
// for clients that name the process inside the protocol rather than by
// path. A client attaches (attach PID) to what it could ptrace itself,
// checked as a connection to DIR/PID is, and runs programs (run) that
// start with its own ids and no_new_privs, never procgdb's.
//
// Each client has a tracer of its own, on its own goroutine, as --multi's
// clients do; but what it leaves behind is not handed to the next client,
// who may be another user: when it goes, the programs it started are
// killed and the processes it attached to let go. Every user may connect
// (mode 0666): what a client may do is decided by who it is.
//
// The socket comes from systemd (a socket unit's ListenStream, named
// "control" with FileDescriptorName=) or, without one, procgdb makes it
// itself and removes it when it stops.

// controlName is the control socket's name in DIR, and the name systemd
// gives its descriptor (LISTEN_FDNAMES).
const controlName = "control"

// openControl returns the control socket: systemd's, if systemd passed
// one named controlName, else one made in dir. Other sockets systemd
// passed are closed, with a warning: procgdb has no use for them.
func openControl(d *daemon) (net.Listener, error) {
	fds, err := procdir.ListenFDs(os.Getenv, os.Getpid())
	if err != nil {
		return nil, err
	}
	// Programs procgdb starts must not take the sockets for theirs.
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(v)
	}
	var ln net.Listener
	for _, fd := range fds {
		l, err := fd.Listener()
		switch {
		case err != nil:
			return nil, err
		case fd.Name == controlName && ln == nil:
			ln = l
			d.log.Info("control socket from systemd", "fd", fd.FD)
		default:
			d.log.Warn("socket from systemd that procgdb does not use, closed", "name", fd.Name, "fd", fd.FD)
			l.Close()
		}
	}
	if ln != nil {
		return ln, nil
	}
	return listenControl(filepath.Join(d.path, controlName))
}

// listenControl makes the control socket at path, in place of one a
// procgdb that did not stop cleanly left, and removes it when closed.
func listenControl(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == os.ModeSocket {
		os.Remove(path)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// serveControl takes the control socket's connections until ctx is done.
func (d *daemon) serveControl(ctx context.Context, ln net.Listener) {
	defer d.wg.Done()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var b acceptBackoff
	warn := func(msg string) { d.log.Warn(msg) }
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil && b.retry(err, warn) {
				continue
			}
			if ctx.Err() == nil {
				d.log.Warn("control socket", "err", err)
			}
			return
		}
		b.reset()
		d.wg.Add(1)
		go d.controlClient(ctx, nc)
	}
}

// controlClient serves one client of the control socket, on this
// goroutine, which becomes its tracer's loop once it attaches or runs a
// program.
func (d *daemon) controlClient(ctx context.Context, nc net.Conn) {
	defer d.wg.Done()
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return
	}
	conn, err := procdir.NewConn(uc)
	if err != nil {
		d.log.Warn("control client", "err", err)
		uc.Close()
		return
	}
	if !d.take(conn) {
		conn.Close()
		return
	}
	defer d.left()
	l, err := newPeerLink(conn)
	if err != nil {
		d.log.Warn("control client", "err", err)
		conn.Close()
		return
	}
	who := fmt.Sprintf("uid %d (process %d), through %s", conn.Cred.Uid, conn.Cred.Pid, controlName)
	log := d.log.With("client", who)
	log.Info("control client")
	tt := &tracee{tr: target.NewTracer(d.layout, log), stderr: io.Discard, osTable: noOSData}
	d.srv.addTracee(tt)
	c := tt.c()
	defer func() {
		// Nothing is handed to the next client: launched programs
		// die, attached processes are let go.
		if err := c.Close(); err != nil {
			log.Warn("clean-up", "err", err)
		}
		d.srv.dropTracee(tt)
		log.Info("control client left")
	}()
	c.SetDebugRegisters(d.srv.debugRegs.use)
	c.SetExecCheck(func(pid int) error {
		if err := conn.CheckProcess(pid); err != nil {
			log.Info("client dropped at exec", "pid", pid, "reason", err)
			l.Close()
			return err
		}
		return nil
	})
	cfg := d.base
	cfg.Attached = c.IsAttached
	cfg.Monitor = daemonMonitor(func(out io.Writer) {
		d.info(out)
		infoProcesses(out, tt, "yours")
	})
	cfg.Shell = defaultShellPath
	cfg.Environ = clientEnviron(conn.Cred.Uid)
	cfg.Files = clientFiles(d.files, conn)
	s := rsp.NewSession(l, clientLauncher{tracee: tt, conn: conn}, cfg)
	out, err := serveSessionOn(ctx, tt, accepted{l: l, who: who}, s, d.srv)
	log.Debug("control session ended", "outcome", out, "err", err)
}

// defaultShellPath starts the programs of the daemon's clients while
// startup-with-shell is on: the daemon's own $SHELL is no concern of
// theirs.
const defaultShellPath = "/bin/sh"

// clientEnviron is the environment a control client's programs start
// with before the client changes it (gdb sends the variables its user
// set): none of procgdb's own, which a service's environment may fill
// with what is not the client's business, but a PATH and the client's
// user's names and home, where the user database has them.
func clientEnviron(uid uint32) []string {
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		env = append(env, "HOME="+u.HomeDir, "USER="+u.Username, "LOGNAME="+u.Username)
	}
	return env
}

// clientLauncher is a control client's tracee: it attaches to what the
// client could ptrace, and starts programs with the client's ids.
type clientLauncher struct {
	*tracee
	conn *procdir.Conn
}

var _ rsp.Launcher = clientLauncher{}

// Attach attaches to process pid if the client may debug it, and checks
// again once attached: the process may have run a set-user-ID program in
// between.
func (l clientLauncher) Attach(pid int) error {
	if err := l.conn.CheckProcess(pid); err != nil {
		return fmt.Errorf("cannot attach to process %d: %w", pid, err)
	}
	if err := l.attach(pid); err != nil {
		return err
	}
	if err := l.conn.CheckProcess(pid); err != nil {
		if derr := l.c().Detach(pid); derr != nil {
			return errors.Join(err, derr)
		}
		return fmt.Errorf("cannot attach to process %d: %w", pid, err)
	}
	return nil
}

// Launch starts a program as the client's user and groups, with
// no_new_privs, and with no terminal: its input is /dev/null and its
// output goes nowhere.
func (l clientLauncher) Launch(spec rsp.LaunchSpec) (int, error) {
	cred, err := l.conn.Credentials()
	if err != nil {
		return 0, fmt.Errorf("launch %s: %w", spec.Program, err)
	}
	lo := launchOptions(spec)
	if !ownIDs(cred) {
		// No Groups is none: not procgdb's. A procgdb that may not
		// change its ids (not root) fails here, as it should.
		lo.Credential = &syscall.Credential{Uid: cred.UID, Gid: cred.GID, Groups: cred.Groups}
	}
	lo.NoNewPrivs = true
	return l.start(lo)
}

// ownIDs tells whether cred's ids and groups are procgdb's own, so that a
// program started for its client needs none set: a procgdb run by an
// ordinary user, who may not even set the groups it has, starts its own
// user's programs as itself.
func ownIDs(cred procdir.Credentials) bool {
	groups, err := os.Getgroups()
	if err != nil || int(cred.UID) != os.Geteuid() || int(cred.GID) != os.Getegid() || len(groups) != len(cred.Groups) {
		return false
	}
	for _, g := range cred.Groups {
		if !slices.Contains(groups, int(g)) {
			return false
		}
	}
	return true
}
