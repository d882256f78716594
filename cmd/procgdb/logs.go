package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
)

// logs are procgdb's two logs on stderr (or --debug-file): the debug log
// of its work (--debug) and the packet log (--remote-debug), with the
// switches that monitor commands turn while it runs.
type logs struct {
	log  *slog.Logger // the debug log: warnings, and all with --debug
	wire *slog.Logger // the packet log, for rsp.Config.WireLog
	// debug and remoteDebug are the two logs' levels; timestamps says
	// whether lines carry the time (--debug-format).
	debug, remoteDebug slog.LevelVar
	timestamps         atomic.Bool
	close              func()
}

// newLogs opens the logs as the options say.
func newLogs(o options, stderr io.Writer) (*logs, error) {
	l := &logs{close: func() {}}
	l.setDebug(o.debug)
	l.setRemoteDebug(o.remoteDebug)
	l.timestamps.Store(!o.noTimestamps)
	w := stderr
	if o.debugFile != "" {
		f, err := os.OpenFile(o.debugFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("debug file: %w", err)
		}
		w, l.close = f, func() { f.Close() }
	}
	dropTime := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 && !l.timestamps.Load() {
			return slog.Attr{}
		}
		return a
	}
	l.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: &l.debug, ReplaceAttr: dropTime}))
	l.wire = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: &l.remoteDebug, ReplaceAttr: dropTime}))
	return l, nil
}

// debugging and packetLogging say whether the logs are on.
func (l *logs) debugging() bool     { return l.debug.Level() <= slog.LevelDebug }
func (l *logs) packetLogging() bool { return l.remoteDebug.Level() <= slog.LevelInfo }

// setDebug turns the debug log's debug messages on or off.
func (l *logs) setDebug(on bool) {
	l.debug.Set(levelIf(on, slog.LevelDebug))
}

// setRemoteDebug turns the packet log on or off: packets are logged at
// Info level.
func (l *logs) setRemoteDebug(on bool) {
	l.remoteDebug.Set(levelIf(on, slog.LevelInfo))
}

// levelIf returns level when on, else Warn: warnings only.
func levelIf(on bool, level slog.Level) slog.Level {
	if on {
		return level
	}
	return slog.LevelWarn
}

// parseDebugFormat reads gdbserver's debug-format list, "all", "none" or
// "timestamp" separated by commas, and says whether lines carry the time.
func parseDebugFormat(s string) (timestamps bool, err error) {
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "all", "timestamp":
			timestamps = true
		case "none":
			timestamps = false
		default:
			return false, fmt.Errorf("debug-format %q: want all, none or timestamp", f)
		}
	}
	return timestamps, nil
}
