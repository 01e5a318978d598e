/* The floor of any OpenSSL-based client's memory (bench/footprint.sh -f): what bluetti and
 * bluetti-bridge do with OpenSSL and nothing else. PKCS#12 parsed from memory, an SSL_CTX
 * with the client certificate and the CA, a TLS handshake with mutual authentication to the
 * broker, one MQTT CONNECT and its CONNACK; then this process's VmRSS, RssAnon, RssFile and
 * VmHWM (MB) on one line. footprint.sh builds it twice: against the shared libssl/libcrypto
 * and statically (libssl.a, libcrypto.a, glibc's libc.a, --gc-sections).
 *   tls_floor PFX PASSWORD_FILE CA_PEM PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>

static unsigned char pfx[1 << 16];

static double status_mb(const char *key)
{
	char l[256];
	double v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(l, sizeof l, f))
		if (!strncmp(l, key, strlen(key)) && l[strlen(key)] == ':')
			v = atof(l + strlen(key) + 1) / 1024;
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	char pw[256] = "";
	FILE *f;
	size_t n;
	const unsigned char *p = pfx;
	PKCS12 *p12;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	SSL_CTX *ctx;
	SSL *ssl;
	int s;
	struct sockaddr_in a = {.sin_family = AF_INET};
	static const unsigned char conn[] = {0x10, 0x10, 0,  4, 'M', 'Q', 'T', 'T', 4,
	                                     2,    0,    60, 0, 4,   'f', 'l', 'o', 'r'};
	unsigned char ack[4];

	if (argc != 5 || !(f = fopen(argv[1], "rb")))
		return 2;
	n = fread(pfx, 1, sizeof pfx, f);
	fclose(f);
	if (!(f = fopen(argv[2], "r")) || !fgets(pw, sizeof pw, f))
		return 2;
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';

	OPENSSL_init_ssl(0, NULL);
	p12 = d2i_PKCS12(NULL, &p, (long)n);
	if (!p12 || !PKCS12_parse(p12, pw, &key, &cert, &ca))
		goto err;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1)
		goto err;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	a.sin_port = htons((unsigned short)atoi(argv[4]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0)
		return 3;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, s);
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (SSL_connect(ssl) != 1 || SSL_write(ssl, conn, sizeof conn) != (int)sizeof conn ||
	    SSL_read(ssl, ack, sizeof ack) != 4 || ack[0] != 0x20 || ack[3] != 0)
		goto err;
	printf("%.2f | %.2f | %.2f | %.2f\n", status_mb("VmRSS"), status_mb("RssAnon"),
	       status_mb("RssFile"), status_mb("VmHWM"));
	return 0;
err:
	ERR_print_errors_fp(stderr);
	return 1;
}
