/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_VERSION_H
#define FTSCOPE_VERSION_H
#define FTSCOPE_VERSION "0.1.0"
#endif
