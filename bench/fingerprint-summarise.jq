# The reduction `zfslab fingerprint summarise` does over a Tetragon JSON log, in jq, for the benchmark
# (bench/fingerprint-summarise.ts): keep the process tree under $root, count syscalls (by name from
# __x64_sys_* kprobes, by number from raw_syscalls tracepoints), binaries with their parents, ioctl
# requests, connect destinations, and the sets of paths written and read (digit runs of 4+ as *).
# Run: jq -n -c --argjson root PID -f bench/fingerprint-summarise.jq events.jsonl
def intree($pid; $ppid): .live[$pid] or .live[$ppid] or ($pid == ($root | tostring));
reduce inputs as $e ({live: {}, syscalls: {}, syscall_ids: {}, binaries: {}, parents: {}, ioctls: {}, destinations: {}, modified: {}, read: {}};
  if $e.process_exec then
    $e.process_exec as $x
    | ($x.process.pid | tostring) as $pid | (($x.parent.pid // -1) | tostring) as $ppid
    | if intree($pid; $ppid) then
        .live[$pid] = true
        | .binaries[$x.process.binary] += 1
        | .parents[$x.process.binary][$x.parent.binary // "?"] = true
      else . end
  elif $e.process_exit then
    del(.live[$e.process_exit.process.pid | tostring])
  elif $e.process_kprobe then
    $e.process_kprobe as $k
    | ($k.process.pid | tostring) as $pid | (($k.parent.pid // -1) | tostring) as $ppid
    | if intree($pid; $ppid) then
        .live[$pid] = true
        | if ($k.function_name | test("^(__x64_|__arm64_|__ia32_|__se_)?sys_")) then
            ($k.function_name | sub("^(__x64_|__arm64_|__ia32_|__se_)?sys_"; "")) as $name
            | .syscalls[$name] += 1
            | if $name == "ioctl" then .ioctls[($k.args[1].size_arg // ($k.args[1].int_arg | tostring))] += 1 else . end
          elif $k.function_name == "tcp_connect" then
            .destinations["\($k.args[0].sock_arg.daddr):\($k.args[0].sock_arg.dport)"] += 1
          elif $k.function_name == "security_file_permission" then
            ($k.args[0].file_arg.path | gsub("[0-9]{4,}"; "*")) as $path
            | if ((($k.args[1].int_arg // 0) / 2 | floor) % 2) == 1 then .modified[$path] = true else .read[$path] = true end
          else . end
      else . end
  elif $e.process_tracepoint then
    $e.process_tracepoint as $t
    | ($t.process.pid | tostring) as $pid | (($t.parent.pid // -1) | tostring) as $ppid
    | if ($t.subsys == "raw_syscalls" and $t.event == "sys_enter" and intree($pid; $ppid)) then
        .live[$pid] = true | .syscall_ids[$t.args[0].syscall_id.id | tostring] += 1
      else . end
  else . end)
| del(.live)
