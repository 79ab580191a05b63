/*
 * ipc_proto.h - the request types spoken between faxpost processes.
 *
 * One place for every message type, so that each side checks against the same list.
 * Owners add their own block; attribute names are documented beside each type.
 */
#ifndef FAXPOST_MAIL_IPC_PROTO_H
#define FAXPOST_MAIL_IPC_PROTO_H

/* qmgr -> delivery agent (smtp, local, fax, print): deliver one message to some of
 * its recipients. Attributes: "queue_id", "queue_name" (active), "path" (queue file),
 * "nexthop" (host[:port] or transport-specific), "rcpt_count", "rcpt.N" (address),
 * "rcpt_index.N" (index into the queue file's recipients, for qf_mark_done).
 * Reply IPC_DELIVER_REPLY: "status.N", "reason.N" per recipient, "relay" (host[addr]). */
#define IPC_DELIVER		0x44454c56u	/* 'DELV' */
#define IPC_DELIVER_REPLY	0x444c5652u	/* 'DLVR' */

/* anyone -> codecd: convert. fds: input parts, then output. Attributes: "target"
 * (RFC 2533 expression), "in_count", "in_type.N" (MIME type). Reply: "status",
 * "reason", "pages", "profile", "coding", "xres", "yres", "width". */
#define IPC_CONVERT		0x434f4e56u	/* 'CONV' */
#define IPC_CONVERT_REPLY	0x43565250u	/* 'CVRP' */

/* qmgr -> faxd: send a fax; faxd -> qmgr: status. See faxd/README. */
#define IPC_FAX_SEND		0x46415853u	/* 'FAXS' */
#define IPC_FAX_SEND_REPLY	0x46585250u	/* 'FXRP' */

/* faxd <-> hwd: line requests (dial, answer, hang up); the line is passed as an fd. */
#define IPC_LINE_REQUEST	0x4c494e45u	/* 'LINE' */
#define IPC_LINE_REPLY		0x4c4e5250u	/* 'LNRP' */

/* cli (faxpost receive) -> popd-client (private/pop): poll now. Request attributes:
 * "mailbox" (optional; all mailboxes when absent). While it works, popd-client sends
 * IPC_POP_PROGRESS messages ("mailbox", "listed", "fetched", "skipped", "bytes"), one
 * per message handled, then one IPC_POP_REPLY per mailbox with the same counters plus
 * "deleted", "status" (2.0.0 / 4.x.x) and "reason", and last IPC_POP_DONE ("status",
 * "mailboxes"). */
#define IPC_POP_RECEIVE		0x504f5052u	/* 'POPR' */
#define IPC_POP_PROGRESS	0x50505047u	/* 'PPPG' */
#define IPC_POP_REPLY		0x50505250u	/* 'PPRP' */
#define IPC_POP_DONE		0x50504f4eu	/* 'PPON' */

/* --- qmgr <-> delivery agents (smtp, local; owner: qmgr helper) -------------------
 * IPC_DELIVER, in addition to the attributes above:
 *   "transport"     the master.cf service name the request was sent to
 *   "sender"        envelope sender ("" = null sender), for convenience in logs
 *   "arrival_us"    int, for delay= in the agent's own log lines
 *   "rcpt.N" may differ from the queue file's recipient rcpt_index.N when qmgr
 *   rewrote it through the address book or a 1:1 alias; the agent delivers to rcpt.N
 *   and marks rcpt_index.N done in place (qf_mark_done) after a 2xx only.
 * IPC_DELIVER_REPLY, per recipient N (same numbering as the request):
 *   "status.N"  enhanced status "2.0.0" / "4.x.x" / "5.x.x" (required)
 *   "reason.N"  text: the server reply ("250 2.0.0 Ok: queued as X") or our reason
 *   "action.N"  on success: "delivered" (final, e.g. local), "relayed" (handed to a
 *               hop without DSN), "passed" (hop takes DSN: NOTIFY went on with it)
 *   "conneg.N"  the next hop's CONNEG capability expression for N, when it gave one
 *   "relay"     "host[addr]:port" or "none"; "delays" "c/d" seconds (setup/transfer)
 * An agent that dies or answers garbage: qmgr defers every recipient of the request
 * that is not marked done in the file ("4.3.0 delivery agent ... failed").
 */

/* --- hwd: modem lines, scanner, printer (owner: hwd helper; see docs/hwd.md) --------
 * IPC_LINE_REQUEST (to private/hwd) "op":
 *   "dial"    "number" (+E.164 or local digits), optional "line" (device, its base
 *             name, or the line's number). Reply IPC_LINE_REPLY "status" 2.0.0 /
 *             4.3.2 (no idle line) / 5.1.3 (not dialable), "reason", "line" (device),
 *             "number" (the line's own number), "dial" (digits after ATD; the
 *             requester dials), fd 0 = the tty. The connection is the lease: closing
 *             it (or sending "op"="hangup" on it) makes hwd hang up and reset the line.
 *   "wait"    optional "timeout" (int seconds; 0 = none). The reply comes when a call
 *             was answered (ATA sent): "status" 2.0.0, "line", "number", "caller_id",
 *             "caller_name", "did", "answered" (int 1), fd 0 = the tty; 4.4.1 timeout.
 *             Again the connection is the lease.
 *   "status"  reply "lines" (int), "line.I" = "DEVICE NUMBER STATE".
 * hwd -> private/$hw_receive_service (faxd) when nobody waits: IPC_LINE_REQUEST
 *   "op"="receive" with the "wait" reply's attributes and fd 0 = the answered tty; the
 *   receiver keeps the connection for the call and closes it when done (an optional
 *   IPC_LINE_REPLY "status" before closing is logged).
 * IPC_SCAN_REQUEST (faxpost scan -> hwd): "to" (one address) or "to_count" + "to.N",
 *   optional "sender". Reply IPC_SCAN_REPLY "status", "reason", "queue_id", "pages".
 * IPC_PRINT_REQUEST (anyone -> hwd): fd 0 = the document, "type" (image/tiff or
 *   application/pdf), optional "title", "queue_id". Reply IPC_PRINT_REPLY "status",
 *   "reason", "job" (spool file name or CUPS job id). */
#define IPC_SCAN_REQUEST	0x5343414eu	/* 'SCAN' */
#define IPC_SCAN_REPLY		0x53435250u	/* 'SCRP' */
#define IPC_PRINT_REQUEST	0x5052494eu	/* 'PRIN' */
#define IPC_PRINT_REPLY		0x50525250u	/* 'PRRP' */

/* --- qmgr -> faxd (owner: faxd helper) ----------------------------------------------
 * qmgr sends the fax transport (private/fax) the ordinary IPC_DELIVER above:
 * "nexthop" = the number to dial (dial rules applied; faxd adds fax_dial_prefix),
 * "rcpt.N" = FAX=+number[/T33S=sub]@domain. faxd takes the first image/tiff part of the
 * queued message, calls, and answers IPC_DELIVER_REPLY with, per recipient:
 *   "status.N"  2.0.0 all pages confirmed; 4.4.1 busy or no answer / not a fax;
 *               4.4.2 the T.30 session failed (resumes at the first unconfirmed page:
 *               faxd keeps that in data_directory/fax_resume/ID.N); 4.3.x no free modem
 *               or a modem fault; 5.6.1 no usable image/tiff part; 5.6.3 the remote's
 *               DIS has no coding/width we can send; 5.1.3 a bad FAX= address
 *   "reason.N"  text, ending "(pages P/T, class busy|no-answer|protocol|local|none,
 *               retry after Ns, remote "CSI")": the retry class and delay from the
 *               fax_retry_* parameters, for qmgr's backoff and the DSN
 *   "conneg.N"  the remote machine's capabilities from its DIS (RFC 2879 expression)
 *   "relay"     "fax[ttyX]"
 * IPC_FAX_SEND / IPC_FAX_SEND_REPLY (above) are reserved for a direct request with the
 * same attributes as IPC_DELIVER plus an fd of the document; faxd does not serve it yet.
 */

#endif
