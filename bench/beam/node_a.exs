# Node A of the BEAM distribution benchmark (see run_bench.sh / README.md).
# Usage: elixir --sname bench_a --cookie C node_a.exs B_NODE
# Env: RUNS (3), N_RTT (20000), N_MSG (1000000), N_RPC (20000), SENDERS (4),
#      N_STACK (= N_MSG), STOP_B (1: :init.stop B at the end),
#      F_CALLERS (64), F_MS (5000), G_SUBS (1000), G_ROUNDS (1000), H_PROCS (1000000),
#      I_CONNECTS (50), ROWS (abcdefghi: which rows to run),
#      BENCH_REPORT (0; 1: also print `@@STEP row run=N` before and `@@ROW row run=N k=v ...`
#      after each measurement, for `ferl bench`)
defmodule Bench do
  @push {:push, "alice", "item-123"}
  def push_msg, do: @push

  defp env(k, d), do: String.to_integer(System.get_env(k, Integer.to_string(d)))
  def cfg do
    n_msg = env("N_MSG", 1_000_000)
    %{runs: env("RUNS", 3), n_rtt: env("N_RTT", 20_000), warm_rtt: env("WARM_RTT", 2_000),
      n_msg: n_msg, warm_msg: env("WARM_MSG", 100_000), n_rpc: env("N_RPC", 20_000),
      warm_rpc: env("WARM_RPC", 2_000), senders: env("SENDERS", 4),
      n_stack: env("N_STACK", n_msg), f_callers: env("F_CALLERS", 64), f_ms: env("F_MS", 5_000),
      g_subs: env("G_SUBS", 1_000), g_rounds: env("G_ROUNDS", 1_000),
      h_procs: env("H_PROCS", 1_000_000), i_connects: env("I_CONNECTS", 50),
      rows: System.get_env("ROWS", "abcdefghi"),
      report: System.get_env("BENCH_REPORT", "0") == "1"}
  end

  def now, do: :erlang.monotonic_time()
  def ns(native), do: :erlang.convert_time_unit(native, :native, :nanosecond)

  # ---- (a) request/response round trip to a registered process on B ----
  def rtt(dest, n), do: rtt(dest, n, [])
  defp rtt(_dest, 0, acc), do: acc
  defp rtt(dest, i, acc) do
    t0 = now()
    send(dest, {:ping, self(), i})
    receive do
      {:pong, ^i} -> :ok
    end
    t1 = now()
    rtt(dest, i - 1, [t1 - t0 | acc])
  end

  def pct(sorted, p) do
    n = length(sorted)
    Enum.at(sorted, min(n - 1, max(0, ceil(p * n) - 1)))
  end

  def run_rtt(b, c) do
    dest = {:bench_echo, b}
    rtt(dest, c.warm_rtt)
    s = rtt(dest, c.n_rtt) |> Enum.map(&ns/1) |> Enum.sort()
    %{p50: pct(s, 0.50) / 1000, p99: pct(s, 0.99) / 1000}
  end

  # ---- (b)/(d) one-way throughput of {:push, "alice", "item-123"} ----
  def send_n(_dest, 0), do: :ok
  def send_n(dest, n) do
    send(dest, @push)
    send_n(dest, n - 1)
  end

  def throughput(b, n, senders) do
    dest = {:bench_sink, b}
    send(dest, {:bench_begin, self(), n})
    per = div(n, senders)
    ^n = per * senders
    pids = for _ <- 1..senders do
      spawn_link(fn -> receive do :go -> send_n(dest, per) end end)
    end
    t0 = now()
    Enum.each(pids, &send(&1, :go))
    receive do
      {:bench_done, ^n} -> :ok
    after 120_000 -> raise "sink did not ack within 120 s"
    end
    n / (ns(now() - t0) / 1.0e9)
  end

  # ---- (c) sequential :rpc.call(B, Greet, :say, ["alice"]) ----
  def rpc_n(_b, 0), do: :ok
  def rpc_n(b, n) do
    "Hello alice, nice to meet you" = :rpc.call(b, Greet, :say, ["alice"])
    rpc_n(b, n - 1)
  end

  def run_rpc(b, c) do
    rpc_n(b, c.warm_rpc)
    t0 = now()
    rpc_n(b, c.n_rpc)
    c.n_rpc / (ns(now() - t0) / 1.0e9)
  end

  # ---- (e) tutorial protocol: N pushes to the :global :stack, then subscribe+pop as ack ----
  def stack_push(b, n) do
    :ok = :rpc.call(b, BenchB, :reset_stack, [])
    :global.sync()
    t0 = now()
    stack_send_n(n)
    server = :global.whereis_name(:stack)
    send(server, {:subscribe, "bench", self()})
    send(server, {:pop, "bench"})
    receive do
      {:notify, :pop, "bench", {"alice", "item-123"}} -> :ok
    after 120_000 -> raise "stack server did not answer within 120 s"
    end
    rate = n / (ns(now() - t0) / 1.0e9)
    send(server, {:unsubscribe, "bench"})
    rate
  end

  # like Client.push/2: `send :global.whereis_name(:stack), {:push, name, item}` per message
  defp stack_send_n(0), do: :ok
  defp stack_send_n(n) do
    send(:global.whereis_name(:stack), @push)
    stack_send_n(n - 1)
  end

  # ---- (f) concurrent gen_server-style calls: many callers, one server on B ----
  # The request is what GenServer.call sends, with the plain {pid, ref} `from` of the contract.
  def calls(b, callers, ms) do
    dest = {:bench_server, b}
    me = self()
    pids = for _ <- 1..callers do
      spawn_link(fn -> receive do {:go, deadline} -> send(me, {:calls, call_loop(dest, deadline, 0)}) end end)
    end
    t0 = now()
    deadline = t0 + :erlang.convert_time_unit(ms, :millisecond, :native)
    Enum.each(pids, &send(&1, {:go, deadline}))
    total = Enum.reduce(pids, 0, fn _, acc ->
      receive do
        {:calls, n} -> acc + n
      after ms + 60_000 -> raise "callers did not finish"
      end
    end)
    total / (ns(now() - t0) / 1.0e9)
  end

  defp call_loop(dest, deadline, n) do
    if now() >= deadline do
      n
    else
      ref = make_ref()
      send(dest, {:"$gen_call", {self(), ref}, {:echo, n}})
      receive do
        {^ref, {:echo, ^n}} -> :ok
      after 60_000 -> raise "no reply from :bench_server within 60 s"
      end
      call_loop(dest, deadline, n + 1)
    end
  end

  # ---- (g) fan-out: one publisher, subscribers half here, half on B ----
  # As the tutorial's server does: each notification is sent to every subscriber pid in turn.
  def fanout(b, subs, rounds) do
    half = div(subs, 2)
    ^subs = 2 * half
    me = self()
    local = for _ <- 1..half, do: spawn(fn -> sub_count(me, rounds) end)
    remote = :rpc.call(b, BenchB, :spawn_subscribers, [half, rounds, me])
    ^half = length(remote)
    # interleaved, so that both nodes' subscribers are fed for the whole run
    all = Enum.zip(local, remote) |> Enum.flat_map(fn {l, r} -> [l, r] end)
    msg = {:notify, :push, "alice", "item-123"}
    t0 = now()
    for _ <- 1..rounds, pid <- all, do: send(pid, msg)
    for _ <- 1..subs do
      receive do
        {:sub_done, _} -> :ok
      after 120_000 -> raise "subscribers did not finish within 120 s"
      end
    end
    subs * rounds / (ns(now() - t0) / 1.0e9)
  end

  defp sub_count(report_to, 0), do: send(report_to, {:sub_done, self()})
  defp sub_count(report_to, left) do
    receive do
      {:notify, :push, _name, _item} -> sub_count(report_to, left - 1)
    end
  end

  # ---- (h) memory per idle process, measured on B by B itself ----
  def idle_procs(b, n) do
    r = :rpc.call(b, BenchB, :idle_procs, [n])
    %{rss: r.rss_bytes / n, vm: r.vm_bytes / n, spawn_ms: r.spawn_us / 1000}
  end

  # ---- (i) Node.connect until B's :global names are visible here, p50 ----
  # Pause before each disconnect, so :global's unlock traffic of the last sync is over.
  @settle_ms 20
  def connect_visible(b, n) do
    :ok = :net_kernel.monitor_nodes(true)
    samples = for _ <- 1..n do
      disconnect(b)
      t0 = now()
      connect(b, 100)
      wait_global(:stack, 10_000)
      t = ns(now() - t0)
      receive do
        {:nodeup, ^b} -> :ok
      after 10_000 -> raise "no nodeup for #{b}"
      end
      t
    end
    :ok = :net_kernel.monitor_nodes(false)
    s = Enum.sort(samples)
    %{p50: pct(s, 0.50) / 1.0e6, max: List.last(s) / 1.0e6}
  end

  # Gone on both levels: the connection (nodedown) and, after it, B's names in :global here.
  # Disconnecting right after a sync races :global's own unlock traffic: a `del_lock` reply
  # still owed to B, or a `del_lock` call to B, goes out after the disconnect and dials B
  # again, and the names come back. OTP does this between two BEAM nodes too. So the row
  # first lets that traffic finish (a few ms, outside the timed part), and if B was dialled
  # again all the same, waits for that sync to end and disconnects again.
  defp disconnect(b, tries \\ 10) do
    Process.sleep(@settle_ms)
    true = Node.disconnect(b)
    receive do
      {:nodedown, ^b} -> :ok
    after 10_000 -> raise "no nodedown for #{b}"
    end
    gone = fn -> :global.whereis_name(:stack) == :undefined end
    redialed = fn -> b in Node.list() end
    wait_until(fn -> gone.() or redialed.() end, 10_000)
    cond do
      gone.() and not redialed.() -> :ok
      tries > 0 ->
        receive do
          {:nodeup, ^b} -> :ok
        after 10_000 -> raise "no nodeup for #{b} after it was dialled again"
        end
        wait_global(:stack, 10_000)
        disconnect(b, tries - 1)
      true -> raise "#{b} keeps coming back after disconnecting"
    end
  end

  # B may not have seen the old connection go yet; then it refuses the new one, so retry.
  defp connect(b, tries) do
    cond do
      Node.connect(b) == true -> :ok
      tries > 0 -> Process.sleep(1); connect(b, tries - 1)
      true -> raise "cannot reconnect to #{b}"
    end
  end

  defp wait_global(name, ms), do: wait_until(fn -> is_pid(:global.whereis_name(name)) end, ms)

  defp wait_until(f, ms) do
    cond do
      f.() -> :ok
      ms <= 0 -> raise "condition not reached in time"
      true -> Process.sleep(1); wait_until(f, ms - 1)
    end
  end

  def median(xs), do: xs |> Enum.sort() |> Enum.at(div(length(xs), 2))

  # Runs one row if ROWS selects it: `@@STEP` before, `@@ROW` with its values after (for
  # `ferl bench`, when BENCH_REPORT=1); %{} when not selected.
  def row(c, run, letter, f) do
    if String.contains?(c.rows, letter) do
      if c.report, do: IO.puts("@@STEP #{letter} run=#{run}")
      vals = f.()
      if c.report do
        kvs = Enum.map_join(vals, " ", fn {k, v} -> "#{k}=#{v}" end)
        IO.puts("@@ROW #{letter} run=#{run} #{kvs}")
      end
      vals
    else
      %{}
    end
  end
end

[b_str | _] = System.argv()
b = String.to_atom(b_str)
c = Bench.cfg()
true = Node.connect(b)
:global.sync()
info = :rpc.call(b, :erlang, :system_info, [:schedulers_online])

rows = [
  {"(a) RTT p50, µs (#{c.n_rtt} round trips)", :lat_p50},
  {"(a) RTT p99, µs", :lat_p99},
  {"(b) 1 sender -> registered sink, msgs/s (#{c.n_msg})", :tp1},
  {"(c) :rpc.call Greet.say/1, calls/s (#{c.n_rpc})", :rpc},
  {"(d) #{c.senders} senders -> registered sink, msgs/s (#{c.n_msg} total)", :tp4},
  {"(e) tutorial :stack push+pop-ack, msgs/s (#{c.n_stack})", :stack},
  {"(f) #{c.f_callers} callers -> one :bench_server, calls/s (#{c.f_ms} ms)", :calls},
  {"(g) fan-out to #{c.g_subs} subscribers (half on B), deliveries/s (#{c.g_rounds} rounds)", :fanout},
  {"(h) idle process on B, bytes (VmRSS delta, #{c.h_procs} processes)", :mem_rss},
  {"(h) idle process on B, bytes (:erlang.memory(:total) delta)", :mem_vm},
  {"(h) spawn #{c.h_procs} idle processes on B, ms", :spawn_ms},
  {"(i) Node.connect -> B's :global names visible, p50 ms (#{c.i_connects} connects)", :connect_p50}
]

# warm-up for the throughput paths (not recorded)
if String.contains?(c.rows, "b"), do: Bench.throughput(b, c.warm_msg, 1)
if String.contains?(c.rows, "d"), do: Bench.throughput(b, c.warm_msg, c.senders)

results =
  for run <- 1..c.runs do
    IO.puts(:stderr, "run #{run}/#{c.runs} ...")
    r = fn letter, f -> Bench.row(c, run, letter, f) end
    l = r.("a", fn -> l = Bench.run_rtt(b, c); %{p50_us: l.p50, p99_us: l.p99} end)
    tp1 = r.("b", fn -> %{msgs_per_s: Bench.throughput(b, c.n_msg, 1)} end)
    rpc = r.("c", fn -> %{calls_per_s: Bench.run_rpc(b, c)} end)
    tp4 = r.("d", fn -> %{msgs_per_s: Bench.throughput(b, c.n_msg, c.senders)} end)
    stack = r.("e", fn -> %{msgs_per_s: Bench.stack_push(b, c.n_stack)} end)
    calls = r.("f", fn -> %{calls_per_s: Bench.calls(b, c.f_callers, c.f_ms)} end)
    fan = r.("g", fn -> %{deliveries_per_s: Bench.fanout(b, c.g_subs, c.g_rounds)} end)
    mem = r.("h", fn ->
      m = Bench.idle_procs(b, c.h_procs)
      %{rss_bytes: m.rss, vm_bytes: m.vm, spawn_ms: m.spawn_ms}
    end)
    conn = r.("i", fn ->
      m = Bench.connect_visible(b, c.i_connects)
      %{p50_ms: m.p50, max_ms: m.max}
    end)
    %{lat_p50: l[:p50_us], lat_p99: l[:p99_us], tp1: tp1[:msgs_per_s], rpc: rpc[:calls_per_s],
      tp4: tp4[:msgs_per_s], stack: stack[:msgs_per_s], calls: calls[:calls_per_s],
      fanout: fan[:deliveries_per_s], mem_rss: mem[:rss_bytes], mem_vm: mem[:vm_bytes],
      spawn_ms: mem[:spawn_ms], connect_p50: conn[:p50_ms]}
  end

fmt = fn
  v when is_float(v) and v >= 1000 -> :erlang.float_to_binary(v, decimals: 0)
  v when is_float(v) -> :erlang.float_to_binary(v, decimals: 1)
  nil -> "-"
end

{otp, erts} = {:erlang.system_info(:otp_release), :erlang.system_info(:version)}
IO.puts("BEAM distribution over loopback: A=#{node()} -> B=#{b}; OTP #{otp} (erts #{erts}), " <>
  "Elixir #{System.version()}, schedulers A=#{:erlang.system_info(:schedulers_online)} B=#{info}, " <>
  "#{System.schedulers_online()} cores visible; runs=#{c.runs}, report=median")
IO.puts("message {:push, \"alice\", \"item-123\"} = " <>
  "#{byte_size(:erlang.term_to_binary(Bench.push_msg()))} bytes in external term format (no atom cache)")
IO.puts("")
hdr = "| measurement | " <> Enum.map_join(1..c.runs, " | ", &"run #{&1}") <> " | median |"
IO.puts(hdr)
IO.puts("|---|" <> String.duplicate("---:|", c.runs + 1))
for {label, k} <- rows do
  vals = Enum.map(results, & &1[k])
  if Enum.any?(vals, &is_nil/1) do
    IO.puts("| #{label} | " <> Enum.map_join(vals, " | ", fmt) <> " | - |")
  else
    IO.puts("| #{label} | " <> Enum.map_join(vals, " | ", &fmt.(&1 / 1)) <> " | **#{fmt.(Bench.median(vals) / 1)}** |")
  end
end

if System.get_env("STOP_B", "1") == "1", do: :rpc.call(b, :init, :stop, [])
