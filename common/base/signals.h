/* SPDX-License-Identifier: Apache-2.0 */
/* How both daemons learn of SIGTERM and SIGINT: the handler writes the
 * signal to a pipe whose read end the main loop polls (nothing else runs
 * in the handler). SIGPIPE is ignored: a peer closing a socket is an
 * error code, not a death. */
#ifndef ZL_BASE_SIGNALS_H
#define ZL_BASE_SIGNALS_H

/* Installs the handlers once; returns the pipe's read end (non-blocking,
 * close-on-exec), or -1 with errno set. */
int signals_install(void);

/* Closes the pipe (the handlers stay, writing nowhere). */
void signals_close(void);

#endif
