/*
 * The sandbox ("pause") process of every pod: it holds the pod's namespaces open, so it
 * only has to sleep until the runtime stops it. As PID 1 of a shared PID namespace it
 * must also reap orphans, or they would stay zombies for the pod's lifetime.
 *
 * Written for the golden-path platform (same behaviour as Kubernetes' build/pause/linux/pause.c):
 * SIGINT/SIGTERM exit 0, SIGCHLD reaps, "-v" prints the version. Built static
 * (gcc -static) so the image needs no libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "unknown"
#endif

static void sigdown(int signo) {
  psignal(signo, "Shutting down, got signal");
  exit(0);
}

static void sigreap(int signo) {
  (void)signo;
  /* WNOHANG: several children may end between two deliveries of one SIGCHLD. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void on(int signo, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, NULL) < 0) {
    fprintf(stderr, "pause: sigaction(%d): %s\n", signo, strerror(errno));
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "-v") == 0) {
    printf("golden-path pause %s\n", VERSION);
    return 0;
  }
  if (getpid() != 1) {
    fprintf(stderr, "Warning: pause should be the first process\n");
  }
  on(SIGINT, sigdown, 0);
  on(SIGTERM, sigdown, 0);
  on(SIGCHLD, sigreap, SA_NOCLDSTOP | SA_RESTART);
  for (;;) {
    pause();
  }
  /* Not reached: pause() only returns after a handler, and the loop goes on. */
  return 42;
}
