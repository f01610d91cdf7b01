/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/sysinfo.h"
#include "ftscope/util.h"

/* Value of "key<sep>value" from a text file (first match), malloc'd, or NULL. */
static char *file_field(const char *path, const char *key, char sep)
{
	char *text = NULL, *line, *save = NULL, *val = NULL;
	size_t kl = strlen(key);
	if (read_file(path, &text, NULL) < 0)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p;
		if (strncmp(line, key, kl))
			continue;
		p = line + kl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != sep)
			continue;
		p = trim(p + 1);
		if (*p == '"') {
			p++;
			if (*p && p[strlen(p) - 1] == '"')
				p[strlen(p) - 1] = '\0';
		}
		val = xstrdup(p);
		break;
	}
	free(text);
	return val;
}

static double meminfo_gb(const char *key)
{
	char *v = file_field("/proc/meminfo", key, ':');
	double gb = v ? strtod(v, NULL) / (1024.0 * 1024.0) : 0;
	free(v);
	return round_to(gb, 1);
}

static int physical_cores(void)
{
	/* Distinct (physical id, core id) pairs from /proc/cpuinfo. */
	char *text = NULL, *line, *save = NULL;
	int phys = 0, pairs[1024][2], n = 0;
	if (read_file("/proc/cpuinfo", &text, NULL) < 0)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(line, ':');
		if (!c)
			continue;
		if (starts_with(line, "physical id"))
			phys = atoi(c + 1);
		else if (starts_with(line, "core id") && n < 1024) {
			int core = atoi(c + 1), k;
			for (k = 0; k < n; k++)
				if (pairs[k][0] == phys && pairs[k][1] == core)
					break;
			if (k == n) {
				pairs[n][0] = phys;
				pairs[n][1] = core;
				n++;
			}
		}
	}
	free(text);
	return n;
}

static int count_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			n++;
	closedir(d);
	return n;
}

static double cpu_freq_mhz(const char *file)
{
	char *path = xasprintf("/sys/devices/system/cpu/cpu0/cpufreq/%s", file), *t = NULL;
	double v = 0;
	if (read_file(path, &t, NULL) == 0)
		v = strtod(t, NULL) / 1000.0;
	free(t);
	free(path);
	return v;
}

cJSON *system_profile_json(const char *path)
{
	cJSON *s = cJSON_CreateObject();
	struct utsname u;
	struct statvfs vfs;
	char host[256] = "", ts[32];
	char *model = file_field("/proc/cpuinfo", "model name", ':');
	char *distro = file_field("/etc/os-release", "PRETTY_NAME", '=');
	double freq = cpu_freq_mhz("scaling_cur_freq");
	uname(&u);
	gethostname(host, sizeof(host) - 1);
	if (!freq) {
		char *mhz = file_field("/proc/cpuinfo", "cpu MHz", ':');
		freq = mhz ? strtod(mhz, NULL) : 0;
		free(mhz);
	}
	json_set_str(s, "cpu_model", model ? model : "unknown");
	cJSON_AddNumberToObject(s, "cpu_cores_physical", physical_cores());
	cJSON_AddNumberToObject(s, "cpu_cores_logical", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(s, "cpu_freq_mhz", round_to(freq, 0));
	cJSON_AddNumberToObject(s, "cpu_freq_max_mhz", round_to(cpu_freq_mhz("cpuinfo_max_freq"), 0));
	cJSON_AddStringToObject(s, "cpu_architecture", u.machine);
	cJSON_AddNumberToObject(s, "ram_total_gb", meminfo_gb("MemTotal"));
	cJSON_AddNumberToObject(s, "ram_available_gb", meminfo_gb("MemAvailable"));
	cJSON_AddNumberToObject(s, "swap_total_gb", meminfo_gb("SwapTotal"));
	cJSON_AddStringToObject(s, "os_name", u.sysname);
	cJSON_AddStringToObject(s, "os_kernel_version", u.release);
	json_set_str(s, "os_distro", distro ? distro : "unknown");
	/* ftscope is not a Python program: no host interpreter is involved. */
	cJSON_AddNullToObject(s, "host_python_version");
	cJSON_AddNullToObject(s, "host_python_implementation");
	cJSON_AddNumberToObject(s, "running_processes", count_processes());
	cJSON_AddStringToObject(s, "disk_type", "unknown");
	if (statvfs(path, &vfs) == 0)
		cJSON_AddNumberToObject(s, "disk_available_gb",
					round_to((double)vfs.f_bavail * vfs.f_frsize / 1e9, 1));
	else
		cJSON_AddNullToObject(s, "disk_available_gb");
	cJSON_AddStringToObject(s, "hostname", host);
	iso_utc(now_wall(), ts, sizeof(ts));
	cJSON_AddStringToObject(s, "timestamp", ts);
	free(model);
	free(distro);
	return s;
}
