/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CLUSTER_H
#define FTSCOPE_CLUSTER_H

/*
 * Crash-signature clustering for `ftscope crashes` (pure functions, no I/O).
 *
 * Crashes with the same signature id are one *variant*. Variants are merged into one
 * *cluster* when they have the same signal and their frame lists share at least
 * CLUSTER_SAME_FRAMES frames in the same order (longest common subsequence: ClusterFuzz's
 * CrashComparer rule, SAME_FRAMES_THRESHOLD = 2, over crash states of 3 frames). So
 * "f | g | h" and "f | g | k" merge, "f | g | h" and "g | f" do not, and two signatures
 * that differ only in their Python frame merge when they have two native frames in common.
 * Merging is transitive (single linkage, as ClusterFuzz's grouper does).
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

#define CLUSTER_SAME_FRAMES 2

/* A signature taken apart: "SIGSEGV | f | g | py test_x.py:work". */
struct sig_parts {
	char *signal;         /* "SIGSEGV", or NULL if the text does not start with one */
	struct strv frames;   /* native (or Python, when no native frame was kept) frames */
	char *py_frame;       /* "test_x.py:work" (the "py " part), or NULL */
};
#define SIG_PARTS_INIT { NULL, STRV_INIT, NULL }

/*
 * Split a signature text: the one rule for every reader (the run store parses each
 * iteration's signature with it; crashes, the reports' clusters). ftscope's form is
 * "SIG | frame | ... | py file:func": the first part is the signal when it starts with
 * "SIG", the first "py " part the Python frame, the rest the frames (parts trimmed, empty
 * ones dropped). Without " | ": "SIGSEGV: test_x.py:worker" (no tracer) gives the signal
 * and the Python frame (one word with a colon after "SIG...: "); labeille's
 * "SIGSEGV: Fatal Python error: Segmentation fault" and a bare "SIGABRT" give the signal
 * only; a text that does not start with "SIG" gives no signal. Always succeeds (text NULL
 * gives nothing).
 */
void sig_parts_parse(const char *text, struct sig_parts *out);
void sig_parts_release(struct sig_parts *p);

/* Frames common to a and b, in order (longest common subsequence length). */
size_t frames_lcs(const char *const *a, size_t na, const char *const *b, size_t nb);

struct crash_variant {
	const char *id;              /* signature id (or the text when there is no id) */
	const char *signal;          /* may be NULL */
	const char *const *frames;
	size_t nframes;
};

/* Same id; or same signal and >= CLUSTER_SAME_FRAMES frames in common, in order. */
bool variants_similar(const struct crash_variant *a, const struct crash_variant *b);

/*
 * Cluster n variants: group[i] gets the cluster number of v[i], numbered 0.. in the order
 * of each cluster's first variant. Returns the number of clusters.
 */
size_t cluster_variants(const struct crash_variant *v, size_t n, size_t *group);

#endif
