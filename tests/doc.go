// Package tests holds procgdb's end-to-end tests: they compile small C
// programs, serve them with a stub and drive a real gdb against it, in batch
// mode or through gdb/MI, over TCP, a unix socket and stdio. The client_*
// tests drive the typed client, rsp/client, against the same stubs and
// against lldb-server.
//
// The stub under test is procgdb, built once per test binary from
// ./cmd/procgdb. With PROCGDB_TEST_STUB=gdbserver the same tests run against
// gdbserver instead, which shows that a test's expectations are gdb's and not
// procgdb's own (tests of features gdbserver lacks are skipped then).
//
// Other environment variables:
//
//	PROCGDB_TEST_BIN=PATH        test this procgdb binary instead of
//	                             building ./cmd/procgdb
//	PROCGDB_TEST_REMOTE_DEBUG=1  start the stub with --remote-debug, so a
//	                             failing test logs every packet
//	CI=true                      a missing gdb or gcc fails the tests
//	                             instead of skipping them
package tests
