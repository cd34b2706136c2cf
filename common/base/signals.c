/* SPDX-License-Identifier: Apache-2.0 */
/* SIGTERM and SIGINT through a self-pipe. */
#define _GNU_SOURCE /* pipe2 */
#include "base/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    ssize_t n = write(signal_pipe[1], &c, 1);
    (void)n;
    errno = saved;
}

int signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
        sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signal_pipe[0];
}

void signals_close(void)
{
    for (int i = 0; i < 2; i++) {
        if (signal_pipe[i] >= 0)
            close(signal_pipe[i]);
        signal_pipe[i] = -1;
    }
}
