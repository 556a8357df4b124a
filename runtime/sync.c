/* Messages between the runtime and the processes it forks while a container
 * or an exec is made: one SOCK_SEQPACKET datagram per message, so a message
 * is never split, and end of stream means the other side died. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/internal.h"

#define SYNC_TEXT_MAX 4096

struct sync_msg {
	uint32_t type;
	int32_t value;
	char text[SYNC_TEXT_MAX];
};

int runtime_sync_send(int fd, enum runtime_sync_type type, int32_t value, const char *text)
{
	struct sync_msg msg = { .type = type, .value = value };
	size_t len = offsetof(struct sync_msg, text);
	ssize_t n;

	if (text != NULL) {
		size_t tlen = strnlen(text, SYNC_TEXT_MAX - 1);

		memcpy(msg.text, text, tlen);
		msg.text[tlen] = '\0';
		len += tlen + 1;
	}
	do
		n = send(fd, &msg, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

void runtime_sync_send_error(int fd, const struct berr *err)
{
	runtime_sync_send(fd, RUNTIME_SYNC_ERROR, err ? (int32_t)err->kind : BERR_INTERNAL,
			  err ? err->msg : "unknown error");
}

/* Receives one message; returns its length, 0 at end of stream. */
static ssize_t sync_recv(int fd, struct sync_msg *msg, const char *what, struct berr **err)
{
	ssize_t n;

	do
		n = recv(fd, msg, sizeof(*msg), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_set(err, BERR_INTERNAL, errno, "waiting for %s", what);
	if (n > 0 && (size_t)n < offsetof(struct sync_msg, text))
		return berr_set(err, BERR_INTERNAL, 0, "waiting for %s: short message", what);
	if ((size_t)n == offsetof(struct sync_msg, text))
		msg->text[0] = '\0';
	else
		msg->text[sizeof(msg->text) - 1] = '\0';
	return n;
}

static int error_from_msg(const struct sync_msg *msg, struct berr **err)
{
	enum berr_kind kind = msg->value >= BERR_INTERNAL && msg->value <= BERR_NOT_IMPLEMENTED
				      ? (enum berr_kind)msg->value
				      : BERR_INTERNAL;

	return berr_set(err, kind, 0, "%s", msg->text);
}

int runtime_sync_expect_eof(int fd, const char *what, struct berr **err)
{
	struct sync_msg msg;
	ssize_t n = sync_recv(fd, &msg, what, err);

	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (msg.type == RUNTIME_SYNC_ERROR)
		return error_from_msg(&msg, err);
	return berr_set(err, BERR_INTERNAL, 0, "waiting for %s: unexpected message %u", what,
			msg.type);
}

int runtime_sync_expect(int fd, enum runtime_sync_type type, int32_t *value, const char *what,
			struct berr **err)
{
	struct sync_msg msg;
	ssize_t n = sync_recv(fd, &msg, what, err);

	if (n < 0)
		return -1;
	if (n == 0)
		return berr_set(err, BERR_INTERNAL, 0,
				"waiting for %s: the container process exited", what);
	if (msg.type == RUNTIME_SYNC_ERROR)
		return error_from_msg(&msg, err);
	if (msg.type != (uint32_t)type)
		return berr_set(err, BERR_INTERNAL, 0, "waiting for %s: unexpected message %u",
				what, msg.type);
	if (value)
		*value = msg.value;
	return 0;
}
