/* The floor of case 2a of tests/bench/run.sh: the least work an OpenSSL 3
 * client does for one HTTPS request that trusts one CA file. A context (with
 * the system's openssl.cnf, as gptq and curl load it), the CA, a TCP
 * connection, a verified handshake, one POST, the response read by its
 * Content-Length and its body written to stdout, close_notify. Nothing is
 * freed and OpenSSL's exit handler is skipped, as gptq skips it.
 *
 * A reference for the benchmark, not a client: no options, no JSON, no
 * timeouts, no proxy, IPv4 loopback only.
 *
 *   gptq_bench_floor CA_FILE PORT PATH BODY
 *
 * Exit status 0 when the response came whole, 1 otherwise (with a line on
 * stderr). */

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char* what)
{
  fprintf(stderr, "gptq_bench_floor: %s\n", what);
  ERR_print_errors_fp(stderr);
  return 1;
}

/* Returns the value of the Content-Length header in the head [head, end),
 * or -1 when there is none. */
static long content_length(const char* head, const char* end)
{
  static const char name[] = "\r\ncontent-length:";
  const size_t n = sizeof name - 1;
  for (const char* p = head; p + n <= end; ++p) {
    if (strncasecmp(p, name, n) == 0) {
      return strtol(p + n, NULL, 10);
    }
  }
  return -1;
}

int main(int argc, char** argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: gptq_bench_floor CA_FILE PORT PATH BODY\n");
    return 2;
  }
  const char* ca = argv[1];
  const int port = atoi(argv[2]);
  const char* path = argv[3];
  const char* body = argv[4];

  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
    return fail("no TLS context");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
    return fail("cannot load the CA file");
  }

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr*)&to, sizeof to) != 0) {
    return fail("cannot connect");
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  SSL* ssl = SSL_new(ctx);
  if (ssl == NULL || !SSL_set_fd(ssl, fd) || !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") ||
      SSL_connect(ssl) != 1) {
    return fail("TLS handshake failed");
  }

  char request[8192];
  const int size = snprintf(request,
                            sizeof request,
                            "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\n\r\n%s",
                            path,
                            port,
                            strlen(body),
                            body);
  if (size < 0 || (size_t)size >= sizeof request || SSL_write(ssl, request, size) != size) {
    return fail("cannot send the request");
  }

  static char response[1 << 16];
  size_t got = 0;
  const char* body_start = NULL;
  long length = -1;
  for (;;) {
    if (got == sizeof response) {
      return fail("the response is larger than 64 KiB");
    }
    const int n = SSL_read(ssl, response + got, (int)(sizeof response - got));
    if (n <= 0) {
      return fail("the connection ended before the response did");
    }
    got += (size_t)n;
    if (body_start == NULL) {
      const char* end = memmem(response, got, "\r\n\r\n", 4);
      if (end == NULL) {
        continue;
      }
      body_start = end + 4;
      length = content_length(response, end + 2);
      if (length < 0) {
        return fail("the response has no Content-Length");
      }
    }
    if ((long)(response + got - body_start) >= length) {
      break;
    }
  }
  fwrite(body_start, 1, (size_t)length, stdout);
  SSL_shutdown(ssl);
  return 0;
}
