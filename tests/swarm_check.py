#!/usr/bin/env python3
"""Checks of swarm/ that no tool makes: that the stack's parts agree with each other and
with evmtap's documented interfaces. Each command prints one line per problem and exits 1
when there is any, 0 (with a summary line) when there is none.

  swarm_check.py stack RESOLVED_STACK_YAML SWARM_DIR
      RESOLVED_STACK_YAML is `docker stack config -c swarm/stack.yml` (anchors merged,
      variables interpolated, paths made absolute). Every secret, config, volume and
      network a service names is declared; every config file exists; bind mounts of
      swarm/ stay inside it; Grafana's provisioning (once there) reads mounted folders
      and points at services; the key pseudo-names given to evmtap (--keys) are mounted as
      /run/secrets/<name>, where evmtap looks (src/keys/secrets.c); every --curve-* path
      is mounted; the worker's --connect and the services' addresses name services of the
      stack; the Kafka voters are the brokers; Prometheus scrapes and alerts only services
      that exist; connect-register mounts every swarm/connect/*.json.
  swarm_check.py flags RESOLVED_STACK_YAML EVMTAP_BINARY
      Every --flag of an evmtap service's command is listed by `evmtap run --help` or
      `evmtap worker --help`, whichever the service runs.
  swarm_check.py usage-table CQL_FILE TOPICS_MD
      The Scylla table's columns are the usage record's fields of docs/topics.md.
  swarm_check.py connectors CONNECT_DIR TOPICS_MD CQL_FILE STACK_YAML
      Every connector config parses, is named after its file, names only topics that
      docs/topics.md documents, and maps to what exists: the usage table and all of its
      columns, the bucket that minio-init creates, the secrets Connect has; JSON
      converters read what the coordinator publishes (--format json).
"""
import glob
import json
import os
import re
import sys

import yaml

problems = []


def problem(text):
    problems.append(text)
    print("swarm_check: " + text)


def finish(summary):
    if problems:
        print("swarm_check: %d problems" % len(problems))
        sys.exit(1)
    print("swarm_check: ok: " + summary)
    sys.exit(0)


def flag_values(command, flag):
    """Values of FLAG in an argv list (`--flag value` or `--flag=value`)."""
    values = []
    for i, arg in enumerate(command):
        if arg == flag and i + 1 < len(command):
            values.append(command[i + 1])
        elif arg.startswith(flag + "="):
            values.append(arg[len(flag) + 1:])
    return values


def host_of(address):
    """The host of tcp://H:P, redis://H:P, http://H:P or H:P."""
    address = re.sub(r"^[A-Za-z]+://", "", address)
    return address.rsplit(":", 1)[0]


def mount_targets(service, kind):
    """Where a service's secrets (/run/secrets/T) or configs (T or /SOURCE) are mounted."""
    targets = {}
    for entry in service.get(kind) or []:
        if isinstance(entry, str):
            entry = {"source": entry}
        source = entry["source"]
        target = entry.get("target") or (source if kind == "secrets" else "/" + source)
        if kind == "secrets" and not target.startswith("/"):
            target = "/run/secrets/" + target
        targets[target] = source
    return targets


def check_stack(stack_path, swarm_dir):
    with open(stack_path) as f:
        stack = yaml.safe_load(f)
    services = stack.get("services") or {}
    swarm_dir = os.path.realpath(swarm_dir)
    for kind in ("secrets", "configs", "volumes", "networks"):
        declared = set((stack.get(kind) or {}).keys())
        for name, service in services.items():
            used = service.get(kind) or []
            if kind == "volumes":
                used = [v["source"] for v in used if v.get("type") == "volume"]
            elif kind == "networks" and isinstance(used, dict):
                used = list(used.keys())
            else:
                used = [u if isinstance(u, str) else u["source"] for u in used]
            for item in used:
                if item not in declared:
                    problem("service %s uses %s %r, which the stack does not declare"
                            % (name, kind[:-1], item))
    for name, config in (stack.get("configs") or {}).items():
        path = config.get("file")
        if path and not os.path.isfile(path):
            problem("config %s: file %s does not exist" % (name, path))
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            if volume.get("type") != "bind":
                continue
            source = os.path.realpath(volume["source"])
            if source.startswith(os.path.dirname(swarm_dir) + os.sep) and \
                    not source.startswith(swarm_dir + os.sep):
                problem("service %s binds %s, outside swarm/" % (name, volume["source"]))
            if source.startswith(swarm_dir + os.sep) and os.path.exists(source) and \
                    not os.path.isdir(source):
                problem("service %s binds %s, which is not a directory" % (name, source))

    evmtap = {n: s for n, s in services.items()
              if (s.get("command") or [None])[0] in ("run", "worker")}
    roles = sorted(s["command"][0] for s in evmtap.values())
    if roles != ["run", "worker"]:
        problem("the stack runs evmtap as %s, not one `run` and one `worker` service" % roles)
    # Workers get the key names from the coordinator and read the secrets themselves.
    keys = [k for s in evmtap.values() for v in flag_values(s["command"], "--keys")
            for k in v.split(",")]
    for name, service in evmtap.items():
        command = service["command"]
        secrets = mount_targets(service, "secrets")
        configs = mount_targets(service, "configs")
        for key in keys:
            if "/run/secrets/" + key not in secrets:
                problem("service %s: key %s is not mounted as /run/secrets/%s" % (name, key, key))
        for value in flag_values(command, "--curve-cert"):
            if value not in secrets:
                problem("service %s: --curve-cert %s is not a mounted secret" % (name, value))
        for value in flag_values(command, "--curve-authorized"):
            if not any(t.startswith(value.rstrip("/") + "/") for t in configs):
                problem("service %s: --curve-authorized %s holds no mounted certificate"
                        % (name, value))
        for value in flag_values(command, "--curve-server"):
            if value not in configs:
                problem("service %s: --curve-server %s is not a mounted config" % (name, value))
        for flag in ("--connect", "--redis"):
            for value in flag_values(command, flag):
                if host_of(value) not in services:
                    problem("service %s: %s %s names no service" % (name, flag, value))
        for value in flag_values(command, "--sink"):
            if value.startswith("kafka:"):
                for broker in value[len("kafka:"):].split(","):
                    if host_of(broker) not in services:
                        problem("service %s: broker %s names no service" % (name, broker))
        if not flag_values(command, "--metrics"):
            problem("service %s serves no --metrics (the image's HEALTHCHECK probes it)" % name)
    if not keys:
        problem("no evmtap service is given --keys")
    workers = [n for n, s in evmtap.items() if s["command"][0] == "worker"]
    for name in workers:
        if services[name].get("deploy", {}).get("mode", "replicated") != "replicated":
            problem("service %s is not replicated: `docker service scale` cannot scale it" % name)

    brokers = sorted(n for n, s in services.items()
                     if "KAFKA_PROCESS_ROLES" in (s.get("environment") or {}))
    if len(brokers) != 3:
        problem("the stack has %d Kafka brokers, not 3: %s" % (len(brokers), brokers))
    for name in brokers:
        env = services[name]["environment"]
        voters = sorted(host_of(v.split("@", 1)[1])
                        for v in env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(","))
        if voters != brokers:
            problem("broker %s: controller voters %s are not the brokers %s" % (name, voters, brokers))
        if "controller" not in env["KAFKA_PROCESS_ROLES"]:
            problem("broker %s is not a KRaft controller" % name)
        if host_of(env.get("KAFKA_ADVERTISED_LISTENERS", "")) != name:
            problem("broker %s advertises %s" % (name, env.get("KAFKA_ADVERTISED_LISTENERS")))

    global_services = sorted(n for n, s in services.items()
                             if (s.get("deploy") or {}).get("mode") == "global")
    for name in ("node-exporter", "cadvisor"):
        if name not in global_services:
            problem("%s does not run on every node (deploy.mode: global)" % name)

    prometheus_yml = os.path.join(swarm_dir, "prometheus", "prometheus.yml")
    with open(prometheus_yml) as f:
        prometheus = yaml.safe_load(f)
    names = []
    for job in prometheus.get("scrape_configs") or []:
        for sd in job.get("dns_sd_configs") or []:
            names += sd.get("names") or []
        for sc in job.get("static_configs") or []:
            names += sc.get("targets") or []
    for am in (prometheus.get("alerting") or {}).get("alertmanagers") or []:
        for sc in am.get("static_configs") or []:
            names += sc.get("targets") or []
    for name in names:
        host = re.sub(r"^tasks\.", "", host_of(name))
        if host != "localhost" and host not in services:
            problem("prometheus.yml: %s names no service of the stack" % name)
    for name in evmtap:
        if "tasks." + name not in names:
            problem("prometheus.yml does not scrape the evmtap service %s" % name)

    check_grafana(services.get("grafana") or {}, services, swarm_dir)

    register = services.get("connect-register")
    connectors = sorted(os.path.basename(p) for p in glob.glob(os.path.join(swarm_dir, "connect", "*.json")))
    if not register:
        problem("no connect-register service")
    else:
        mounted = sorted(os.path.basename(t) for t in mount_targets(register, "configs")
                         if t.endswith(".json"))
        if mounted != connectors:
            problem("connect-register mounts %s, swarm/connect has %s" % (mounted, connectors))
    finish("%d services, keys %s, %d brokers, %d scrape names"
           % (len(services), ",".join(keys), len(brokers), len(names)))


def check_grafana(grafana, services, swarm_dir):
    """Once swarm/grafana/provisioning has files: the dashboard providers read folders the
    stack mounts, and the datasources name services of the stack."""
    targets = [v["target"] for v in grafana.get("volumes") or [] if v.get("type") == "bind"]
    provisioning = os.path.join(swarm_dir, "grafana", "provisioning")
    for path in sorted(glob.glob(os.path.join(provisioning, "dashboards", "*.y*ml"))):
        for provider in (yaml.safe_load(open(path)) or {}).get("providers") or []:
            folder = (provider.get("options") or {}).get("path", "")
            if not any(folder == t or folder.startswith(t.rstrip("/") + "/") for t in targets):
                problem("%s: provider %s reads %s, which the grafana service does not mount"
                        % (os.path.basename(path), provider.get("name"), folder))
    for path in sorted(glob.glob(os.path.join(provisioning, "datasources", "*.y*ml"))):
        for source in (yaml.safe_load(open(path)) or {}).get("datasources") or []:
            host = host_of(source.get("url", ""))
            if host not in services:
                problem("%s: datasource %s points at %s, no service of the stack"
                        % (os.path.basename(path), source.get("name"), source.get("url")))


def usage_fields(topics_md):
    """The field names of the usage record's table in docs/topics.md."""
    with open(topics_md) as f:
        text = f.read()
    match = re.search(r"^## `evmtap\.api_keys\.usage`.*?$(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not match:
        problem("%s has no section for evmtap.api_keys.usage" % topics_md)
        return []
    return re.findall(r"^\| `([a-z_]+)` \|", match.group(1), re.M)


def cql_table(cql_file):
    """(keyspace, table, [columns]) of the CREATE TABLE in a CQL file."""
    with open(cql_file) as f:
        text = re.sub(r"--[^\n]*", "", f.read())
    match = re.search(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)\.(\w+)\s*\((.*?)\)\s*(?:WITH[^;]*)?;",
                      text, re.S | re.I)
    if not match:
        problem("%s has no CREATE TABLE keyspace.table (...)" % cql_file)
        return None, None, []
    body = re.sub(r"PRIMARY KEY\s*\((?:[^()]|\([^()]*\))*\)", "", match.group(3), flags=re.I)
    columns, depth, item = [], 0, ""
    for char in body + ",":
        depth += char in "<(" and 1 or char in ">)" and -1 or 0
        if char == "," and depth == 0:
            column = re.match(r'\s*"?(\w+)"?\s+\w', item)
            if column:
                columns.append(column.group(1))
            item = ""
        else:
            item += char
    return match.group(1), match.group(2), columns


def check_usage_table(cql_file, topics_md):
    fields = usage_fields(topics_md)
    _, table, columns = cql_table(cql_file)
    if not fields:
        problem("no documented usage field found in %s" % topics_md)
    if sorted(columns) != sorted(fields):
        problem("table %s has columns %s; the usage record's fields are %s"
                % (table, sorted(columns), sorted(fields)))
    finish("table %s columns = usage fields %s" % (table, ",".join(fields)))


def documented_topics(topics_md):
    """Topic names (without chain prefix) that docs/topics.md gives a section or names."""
    with open(topics_md) as f:
        text = f.read()
    return set(re.findall(r"`((?:<chain>\.)?(?:mined|evmtap|contract|alerts)\.[a-z0-9_.]+)`", text))


def check_connectors(connect_dir, topics_md, cql_file, stack_path):
    documented = {t.replace("<chain>.", "") for t in documented_topics(topics_md)}
    keyspace, table, columns = cql_table(cql_file)
    with open(stack_path) as f:
        stack = yaml.safe_load(f)
    services = stack["services"]
    connect_secrets = {s if isinstance(s, str) else s.get("target", s["source"])
                       for s in services.get("connect", {}).get("secrets") or []}
    minio_init = " ".join(services.get("minio-init", {}).get("entrypoint") or [])
    formats = [v for s in services.values() if (s.get("command") or [None])[0] == "run"
               for v in flag_values(s["command"], "--format")]
    files = sorted(glob.glob(os.path.join(connect_dir, "*.json")))
    if not files:
        problem("no connector config in %s" % connect_dir)
    kinds = set()
    for path in files:
        base = os.path.basename(path)
        try:
            with open(path) as f:
                config = json.load(f)
        except ValueError as e:
            problem("%s: not JSON: %s" % (base, e))
            continue
        if config.get("name") != base[:-len(".json")]:
            problem("%s: name %r is not the file's base name" % (base, config.get("name")))
        topics = [t.strip() for t in config.get("topics", "").split(",") if t.strip()]
        if not topics:
            problem("%s: names no topic" % base)
        for topic in topics:
            bare = re.sub(r"^[a-z0-9_]+\.(?=mined\.|contract\.|alerts\.)", "", topic)
            if bare not in documented:
                problem("%s: topic %s is not documented in docs/topics.md" % (base, topic))
        for value in config.values():
            for secret in re.findall(r"\$\{dir:/run/secrets:([^}]+)\}", str(value)):
                if secret not in connect_secrets:
                    problem("%s: reads secret %s, which the connect service does not mount"
                            % (base, secret))
        if config.get("value.converter", "").endswith("JsonConverter") and \
                any(f != "json" for f in formats):
            problem("%s reads JSON values, the coordinator publishes --format %s"
                    % (base, ",".join(formats)))
        connector_class = config.get("connector.class", "")
        if "Cassandra" in connector_class:
            kinds.add("cql")
            prefix = "topic.evmtap.api_keys.usage.%s.%s." % (keyspace, table)
            mapping = config.get(prefix + "mapping")
            if topics != ["evmtap.api_keys.usage"]:
                problem("%s: the Scylla sink reads %s, not evmtap.api_keys.usage" % (base, topics))
            if mapping is None:
                problem("%s: no %smapping (the table of %s)" % (base, prefix, cql_file))
            else:
                pairs = dict(p.strip().split("=", 1) for p in mapping.split(","))
                if sorted(pairs) != sorted(columns):
                    problem("%s: maps columns %s, the table has %s" % (base, sorted(pairs), sorted(columns)))
                for column, field in pairs.items():
                    if field != "value." + column:
                        problem("%s: column %s is filled from %s" % (base, column, field))
        elif "S3Sink" in connector_class:
            kinds.add("s3")
            bucket = config.get("s3.bucket.name", "")
            if not bucket or ("lake/" + bucket) not in minio_init:
                problem("%s: bucket %r is not the one minio-init creates" % (base, bucket))
            if "minio" not in config.get("store.url", ""):
                problem("%s: store.url %r is not the stack's MinIO" % (base, config.get("store.url")))
            if any(not re.search(r"\.mined\.", t) for t in topics):
                problem("%s: the lake takes the raw chain topics only: %s" % (base, topics))
        else:
            problem("%s: unknown connector class %r" % (base, connector_class))
    if kinds != {"cql", "s3"}:
        problem("connectors found: %s; the stack needs the Scylla and the S3 sink" % sorted(kinds))
    finish("%d connectors: %s" % (len(files), ", ".join(os.path.basename(f) for f in files)))


def check_flags(stack_path, evmtap):
    """Every flag an evmtap service passes is one its command's --help lists."""
    import subprocess
    with open(stack_path) as f:
        stack = yaml.safe_load(f)
    checked = 0
    for name, service in stack.get("services", {}).items():
        command = service.get("command") or []
        if not command or command[0] not in ("run", "worker"):
            continue
        help_text = subprocess.run([evmtap, command[0], "--help"], capture_output=True,
                                   text=True, check=True).stdout
        listed = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text))
        for arg in command[1:]:
            flag = arg.split("=", 1)[0]
            if flag.startswith("--") and flag not in listed:
                problem("service %s: evmtap %s has no flag %s (evmtap %s --help)"
                        % (name, command[0], flag, command[0]))
            checked += flag.startswith("--")
    finish("%d flags of the evmtap services are flags of their commands" % checked)


if __name__ == "__main__":
    commands = {"stack": (check_stack, 2), "usage-table": (check_usage_table, 2),
                "connectors": (check_connectors, 4), "flags": (check_flags, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or \
            len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]][0](*sys.argv[2:])
