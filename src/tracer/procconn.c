/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* The process events connector (procconn.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>

#include "ftscope/procconn.h"
#include "ftscope/util.h"

/* Room for a burst of thread starts while the supervisor is busy (a snapshot, a stop storm):
 * each event is ~100 bytes of socket memory; SO_RCVBUFFORCE lets root go past rmem_max. */
#define PROCCONN_RCVBUF (8 << 20)
#define PROCCONN_ACK_MS 200

static int send_op(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;
	memset(&msg, 0, sizeof(msg));
	msg.nl.nlmsg_len = sizeof(msg);
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(msg.op);
	msg.op = op;
	return send(fd, &msg, sizeof(msg), 0) == (ssize_t)sizeof(msg) ? 0 : -errno;
}

static void dispatch(const char *buf, size_t len, void (*fn)(void *, const struct procconn_fork *),
		     void *arg, bool *acked, int *ack_err, int *forks)
{
	for (const struct nlmsghdr *nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, len);
	     nh = NLMSG_NEXT(nh, len)) {
		const struct cn_msg *cn = NLMSG_DATA(nh);
		const struct proc_event *ev;
		if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_NOOP)
			continue;
		if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC ||
		    cn->len < sizeof(struct proc_event))
			continue;
		ev = (const struct proc_event *)cn->data;
		if (ev->what == PROC_EVENT_NONE) {
			if (acked) {
				*acked = true;
				*ack_err = (int)ev->event_data.ack.err;
			}
		} else if (ev->what == PROC_EVENT_FORK && fn) {
			struct procconn_fork f = {
				.parent_pid = ev->event_data.fork.parent_pid,
				.parent_tgid = ev->event_data.fork.parent_tgid,
				.child_pid = ev->event_data.fork.child_pid,
				.child_tgid = ev->event_data.fork.child_tgid,
				.at_ns = ev->timestamp_ns,
			};
			fn(arg, &f);
			(*forks)++;
		}
	}
}

#define BATCH 32
#define MSG_ROOM 1024 /* an event is ~100 bytes */

/* Read what is queued (a batch of datagrams a call: fewer than asked for means none is
 * left, no extra call to see EAGAIN); fork events to fn. *acked: the kernel's answer to our
 * LISTEN seen (*ack_err its error). */
static int drain(int fd, void (*fn)(void *, const struct procconn_fork *), void *arg,
		 bool *acked, int *ack_err)
{
	static char bufs[BATCH][MSG_ROOM] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int forks = 0;
	for (;;) {
		int n;
		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = MSG_ROOM;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				return -ENOBUFS; /* messages were dropped; the caller looks for itself */
			return forks; /* EAGAIN: all read */
		}
		for (int i = 0; i < n; i++)
			dispatch(bufs[i], msgs[i].msg_len, fn, arg, acked, ack_err, &forks);
		if (n < BATCH)
			return forks;
	}
}

/*
 * Only fork events (and the kernel's acknowledgements) reach the socket: every exit, exec,
 * uid change and ptrace attach of the host would otherwise wake the supervisor too, each a
 * wakeup on a vCPU that may be halted (half the events of a thread-heavy suite are its
 * threads' exits). A socket filter (classic BPF) looks at the event's kind; a word load
 * reads network order, hence htonl.
 */
static void keep_forks_only(int fd)
{
	const unsigned what = NLMSG_HDRLEN + sizeof(struct cn_msg) + offsetof(struct proc_event, what);
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, what),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_FORK), 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_NONE), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };
	/* best effort: without it every event is read, and only forks are used */
	setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

int procconn_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	int fd, r, size = PROCCONN_RCVBUF, ack_err = 0;
	bool acked = false;
	double deadline;
	static int unavailable; /* known not to work here: ask once per process, not per tree */
	if (unavailable)
		return -unavailable;
	fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0)
		return -(unavailable = errno);
	keep_forks_only(fd);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	if (r == 0)
		r = send_op(fd, PROC_CN_MCAST_LISTEN);
	if (r < 0) {
		close(fd);
		unavailable = -r;
		return r;
	}
	/* The kernel answers LISTEN on the same multicast group, only where it will also send
	 * events: outside the initial user/pid/net namespaces there is no answer at all. */
	deadline = now_monotonic() + PROCCONN_ACK_MS / 1000.0;
	while (!acked) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((deadline - now_monotonic()) * 1000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		if (drain(fd, NULL, NULL, &acked, &ack_err) == -ENOBUFS)
			continue;
	}
	if (!acked || ack_err) {
		if (acked) /* a refusal still counted nothing: nothing to undo */
			r = -ack_err;
		else
			r = -ETIMEDOUT;
		close(fd);
		unavailable = -r;
		return r;
	}
	return fd;
}

int procconn_drain(int fd, void (*fn)(void *arg, const struct procconn_fork *f), void *arg)
{
	return drain(fd, fn, arg, NULL, NULL);
}

void procconn_close(int fd)
{
	if (fd < 0)
		return;
	/* The kernel counts listeners and sends events while any are counted: undo ours. */
	send_op(fd, PROC_CN_MCAST_IGNORE);
	close(fd);
}
