/* SPDX-License-Identifier: Apache-2.0 */
/* flight: the host's TLS output gathered into one write per flight. An OpenSSL BIO over the
 * connection's socket: what TLS writes (records, session tickets, alerts) is kept in memory, and
 * OpenSSL's own flushes (one per handshake message it ends, e.g. each TLS 1.3 NewSessionTicket)
 * are ignored; everything kept goes out in one send() when the host turns to read (the BIO is
 * asked for bytes), or when host_flight_flush is called before closing. So a flight (session
 * tickets with the RDSTLS Capabilities; the licensing PDU with the Demand Active; the
 * finalization replies with the first frame) leaves in one write instead of one per record,
 * and no record waits behind the peer's delayed ACK (MS-RDPBCGR 1.3.1.1 names these flights;
 * the README's "What misses its target" measured 255 + 255 + 30 and 56 + 337 byte writes).
 *
 * Reads go straight to the socket (blocking or not, as the socket is: EAGAIN is a retry). The
 * BIO is freed with its SSL (SSL_set_bio); it does not close the socket. */
#ifndef WAPSIM_HOST_FLIGHT_H
#define WAPSIM_HOST_FLIGHT_H

#include <openssl/bio.h>
#include <openssl/ssl.h>

#define HOST_FLIGHT_MAX (4u << 20)       /* bytes kept before a flush is forced */
#define HOST_FLIGHT_WRITE_TIMEOUT_MS 30000 /* a peer that reads nothing this long fails the flush */

/* A flight BIO over fd; NULL when out of memory. */
BIO *host_flight_bio(int fd);
/* Send what ssl's flight BIO keeps (nothing else to do when its write BIO is another kind).
 * 0, or -1 with errno set (ETIMEDOUT when the peer read nothing for the write timeout). */
int host_flight_flush(SSL *ssl);
/* Write calls (send()) the BIO made, for tests and the log. */
unsigned long host_flight_sends(SSL *ssl);

#endif
