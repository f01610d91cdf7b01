/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SYSINFO_H
#define FTSCOPE_SYSINFO_H

struct cJSON;

/* labeille's system_profile for ft_meta.json; disk figures for the filesystem of `path`. */
struct cJSON *system_profile_json(const char *path);

#endif
