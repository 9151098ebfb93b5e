/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A loopback port that never accepts, for tests/dns-discovery.sh: it listens
 * with a backlog of 0, fills that backlog with one connection of its own and
 * never calls accept(), so Linux drops every further SYN and a client's
 * connect() hangs as it would towards a dead host. Prints the port, then
 * waits to be killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main (void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int l = socket (AF_INET, SOCK_STREAM, 0);
  int filler = socket (AF_INET, SOCK_STREAM, 0);

  memset (&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (l < 0 || filler < 0 || bind (l, (struct sockaddr *) &a, sizeof a) != 0 || listen (l, 0) != 0
      || getsockname (l, (struct sockaddr *) &a, &len) != 0
      || connect (filler, (struct sockaddr *) &a, sizeof a) != 0) {
    perror ("tcp-blackhole");
    return 1;
  }
  printf ("%u\n", ntohs (a.sin_port));
  fflush (stdout);
  for (;;)
    pause ();
}
