#!/usr/bin/env bash
# A real Apache Kafka 4 (KRaft, no ZooKeeper) for tests, benchmarks and local runs.
#
#   scripts/kafka.sh install                       download the broker jars from Maven Central (cached)
#   scripts/kafka.sh libs                          print the jar dir; exit 1 when not installed
#   scripts/kafka.sh start [--dir D] [--port P]    one combined controller+broker on 127.0.0.1
#   scripts/kafka.sh stop [--dir D]
#   scripts/kafka.sh start-cluster [--dir D]       three combined nodes on loopback (RF 3, min ISR 2)
#   scripts/kafka.sh stop-cluster [--dir D]
#   scripts/kafka.sh stop-node N [--dir D] [--kill]   fault injection: stop (or kill -9) node N
#   scripts/kafka.sh start-node N [--dir D]           start node N again with its old storage
#   scripts/kafka.sh status [--dir D]
#
# start/start-cluster print `bootstrap=HOST:PORT[,…]` and `dir=D` on stdout when the
# broker(s) answer, and write the same bootstrap list to D/bootstrap. Each node keeps
# its config, data, log and pid under D/node-N. Ports are free ephemeral ones unless
# --port (single broker) is given. Environment: FALCONER_CACHE (default
# ~/.cache/falconer), KAFKA_HEAP (default -Xmx512m), KAFKA_READY_TIMEOUT (s, default 180).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
cache="${FALCONER_CACHE:-$HOME/.cache/falconer}/kafka"
libs="$cache/$version/libs"
heap="${KAFKA_HEAP:--Xms128m -Xmx512m}"
ready_timeout="${KAFKA_READY_TIMEOUT:-180}"

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

installed() { [[ -f "$libs/.complete" ]] && command -v java >/dev/null; }

install() {
  command -v java >/dev/null || die "java (17+) is not on PATH; install it (Debian: apt-get install -y openjdk-17-jre-headless)"
  if installed; then
    echo "kafka $version already installed in $libs"
    return
  fi
  command -v mvn >/dev/null || die "mvn is not on PATH; install it (Debian: apt-get install -y maven)"
  local work
  work="$(mktemp -d)"
  cp "$pom" "$work/pom.xml"
  rm -rf "$libs"
  mkdir -p "$libs"
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central into $libs"
  # The Maven repository is kept in the cache too, so a reinstall downloads nothing.
  (cd "$work" && mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$cache/m2" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs") || die "maven could not fetch Kafka $version (see above)"
  rm -rf "$work"
  [[ -f "$libs/kafka_2.13-$version.jar" ]] || die "kafka_2.13-$version.jar missing after the download"
  touch "$libs/.complete"
  echo "kafka $version installed in $libs"
}

# Prints N free TCP ports on 127.0.0.1 (asked from the kernel, then released).
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]); const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer(); servers.push(s);
        await new Promise((r) => s.listen(0, "127.0.0.1", r));
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
    })();' "$1"
}

# The JVM command as an array (the classpath wildcard must reach java unexpanded).
read -r -a heap_args <<<"$heap"
java_cmd=(java "${heap_args[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -cp "$libs/*")

# write_config DIR NODE_ID BROKER_PORT CONTROLLER_PORT VOTERS REPLICATION
write_config() {
  local node_dir="$1" id="$2" port="$3" cport="$4" voters="$5" rf="$6"
  local min_isr=1
  ((rf >= 3)) && min_isr=2
  mkdir -p "$node_dir/data"
  cat >"$node_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$node_dir/data
# Falconer creates its topics itself (or refuses clearly); the broker never guesses.
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
  echo "$port" >"$node_dir/port"
}

format_node() {
  local node_dir="$1" cluster_id="$2"
  "${java_cmd[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$node_dir/server.properties" \
    >"$node_dir/format.log" 2>&1 || {
    cat "$node_dir/format.log" >&2
    die "cannot format the storage of $node_dir"
  }
}

launch_node() {
  local node_dir="$1"
  [[ -f "$node_dir/pid" ]] && kill -0 "$(cat "$node_dir/pid")" 2>/dev/null && die "$node_dir is already running"
  # setsid: the broker outlives this script and is not hit by the caller's signals.
  setsid "${java_cmd[@]}" kafka.Kafka "$node_dir/server.properties" >>"$node_dir/broker.log" 2>&1 </dev/null &
  echo $! >"$node_dir/pid"
  echo "$(wc -l <"$node_dir/broker.log")" >"$node_dir/log-offset"
}

wait_ready() {
  local node_dir="$1" deadline=$((SECONDS + ready_timeout)) pid from
  pid="$(cat "$node_dir/pid")"
  from="$(cat "$node_dir/log-offset")"
  until tail -n +"$((from + 1))" "$node_dir/broker.log" | grep -q 'Kafka Server started'; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$node_dir/broker.log" >&2
      die "the broker in $node_dir exited during start (log above)"
    fi
    ((SECONDS < deadline)) || {
      tail -n 40 "$node_dir/broker.log" >&2
      die "the broker in $node_dir was not ready after ${ready_timeout}s"
    }
    sleep 0.3
  done
}

stop_node() {
  local node_dir="$1" signal="${2:-TERM}" pid
  [[ -f "$node_dir/pid" ]] || return 0
  pid="$(cat "$node_dir/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: node in $node_dir ignored SIG$signal for 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$node_dir/pid"
}

# A random KRaft cluster id: 16 random bytes, base64url without padding (what
# `kafka-storage random-uuid` prints), made here to save a JVM start. Like
# Kafka's own, never one starting with '-': the storage tool would read it as
# an option (seen once in CI: "argument --cluster-id/-t: expected one argument").
cluster_id() {
  local id
  for _ in 1 2 3 4 5 6 7 8; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && break
  done
  echo "${id#-}"
}

cmd="${1:-}"
[[ -n "$cmd" ]] && shift
dir=""
port=""
node=""
signal="TERM"
while (($#)); do
  case "$1" in
  --dir) dir="$2"; shift 2 ;;
  --port) port="$2"; shift 2 ;;
  --kill) signal="KILL"; shift ;;
  [0-9]*) node="$1"; shift ;;
  *) die "unknown argument: $1" ;;
  esac
done

single_default="${TMPDIR:-/tmp}/falconer-kafka/single"
cluster_default="${TMPDIR:-/tmp}/falconer-kafka/cluster"

need_install() { installed || die "Kafka $version is not installed; run: bash scripts/kafka.sh install"; }

case "$cmd" in
install) install ;;
libs)
  installed || exit 1
  echo "$libs"
  ;;
start)
  need_install
  dir="${dir:-$single_default}"
  [[ -f "$dir/node-1/pid" ]] && kill -0 "$(cat "$dir/node-1/pid")" 2>/dev/null && die "a broker already runs in $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  read -r bport cport <<<"$(free_ports 2)"
  bport="${port:-$bport}"
  write_config "$dir/node-1" 1 "$bport" "$cport" "1@127.0.0.1:$cport" 1
  format_node "$dir/node-1" "$(cluster_id)"
  launch_node "$dir/node-1"
  wait_ready "$dir/node-1"
  echo "127.0.0.1:$bport" >"$dir/bootstrap"
  echo "bootstrap=127.0.0.1:$bport"
  echo "dir=$dir"
  ;;
stop)
  dir="${dir:-$single_default}"
  stop_node "$dir/node-1" "$signal"
  ;;
start-cluster)
  need_install
  dir="${dir:-$cluster_default}"
  for n in 1 2 3; do
    [[ -f "$dir/node-$n/pid" ]] && kill -0 "$(cat "$dir/node-$n/pid")" 2>/dev/null && die "a cluster already runs in $dir"
  done
  rm -rf "$dir"
  mkdir -p "$dir"
  read -r p1 p2 p3 c1 c2 c3 <<<"$(free_ports 6)"
  voters="1@127.0.0.1:$c1,2@127.0.0.1:$c2,3@127.0.0.1:$c3"
  id="$(cluster_id)"
  write_config "$dir/node-1" 1 "$p1" "$c1" "$voters" 3
  write_config "$dir/node-2" 2 "$p2" "$c2" "$voters" 3
  write_config "$dir/node-3" 3 "$p3" "$c3" "$voters" 3
  for n in 1 2 3; do format_node "$dir/node-$n" "$id"; done
  for n in 1 2 3; do launch_node "$dir/node-$n"; done
  for n in 1 2 3; do wait_ready "$dir/node-$n"; done
  echo "127.0.0.1:$p1,127.0.0.1:$p2,127.0.0.1:$p3" >"$dir/bootstrap"
  echo "bootstrap=$(cat "$dir/bootstrap")"
  echo "dir=$dir"
  ;;
stop-cluster)
  dir="${dir:-$cluster_default}"
  for n in 1 2 3; do stop_node "$dir/node-$n" "$signal" & done
  wait
  ;;
stop-node)
  [[ -n "$node" ]] || die "stop-node needs a node number"
  dir="${dir:-$cluster_default}"
  stop_node "$dir/node-$node" "$signal"
  ;;
start-node)
  [[ -n "$node" ]] || die "start-node needs a node number"
  need_install
  dir="${dir:-$cluster_default}"
  [[ -f "$dir/node-$node/server.properties" ]] || die "no node $node in $dir"
  launch_node "$dir/node-$node"
  wait_ready "$dir/node-$node"
  echo "node $node ready"
  ;;
status)
  if installed; then echo "installed: kafka $version in $libs"; else echo "installed: no (kafka $version)"; fi
  for d in ${dir:-$single_default $cluster_default}; do
    for nd in "$d"/node-*; do
      [[ -d "$nd" ]] || continue
      state="stopped"
      [[ -f "$nd/pid" ]] && kill -0 "$(cat "$nd/pid")" 2>/dev/null && state="running (pid $(cat "$nd/pid"))"
      echo "$nd: 127.0.0.1:$(cat "$nd/port" 2>/dev/null || echo '?') $state"
    done
  done
  ;;
*)
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  [[ -z "$cmd" ]] && exit 2
  die "unknown command: $cmd"
  ;;
esac
