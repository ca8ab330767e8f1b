# Node B of the BEAM distribution benchmark (see run_bench.sh / README.md).
# Provides, on this node:
#   :bench_echo  (registered locally)  {:ping, from_pid, seq} -> from_pid ! {:pong, seq}
#   :bench_sink  (registered locally)  {:bench_begin, from_pid, n}, then counts n
#                messages {:push, _name, _item}; after the n-th sends
#                from_pid ! {:bench_done, n}
#   :stack       (registered GLOBALLY) log-free port of the tutorial's Server loop
#                (same messages; Map instead of HashDict, no Logger)
#   Greet.say/1  target of the :rpc.call measurement (as in the tutorial)
#   BenchB.reset_stack/0  restarts :stack with an empty stack (called between runs)
#   :bench_server (registered locally) for (f): {:'$gen_call', {from, tag}, {:echo, seq}}
#                -> from ! {tag, {:echo, seq}}  (gen_server's request/reply shapes)
#   BenchB.spawn_subscribers/3  for (g): spawns n subscribers that each count `rounds`
#                {:notify, :push, _, _} and then send {:sub_done, self()} to report_to
#   BenchB.idle_procs/1  for (h): spawns n processes idle in receive, measures them, kills them
# Start with `--erl "+P 2000000"` for (h) at full size (the default limit is 262,144).
defmodule Greet do
  def say(name), do: "Hello #{name}, nice to meet you"
end

defmodule BenchEcho do
  def loop do
    receive do
      {:ping, from, seq} ->
        send(from, {:pong, seq})
        loop()
      :stop ->
        :ok
    end
  end
end

defmodule BenchSink do
  def idle do
    receive do
      {:bench_begin, from, n} -> count(from, n, 0)
      :stop -> :ok
      _other -> idle()
    end
  end

  defp count(from, n, n) do
    send(from, {:bench_done, n})
    idle()
  end

  defp count(from, n, c) do
    receive do
      {:push, _name, _item} -> count(from, n, c + 1)
    end
  end
end

defmodule BenchStack do
  # Same protocol as the tutorial's Server.loop/2, without Logger and HashDict.
  def loop(subs, stack) do
    receive do
      {:subscribe, name, pid} ->
        loop(Map.put(subs, name, pid), stack)
      {:unsubscribe, name} ->
        loop(Map.delete(subs, name), stack)
      {:push, name, item} ->
        notify(:push, subs, name, item)
        loop(subs, [{name, item} | stack])
      {:pop, name} ->
        case stack do
          [] ->
            send(Map.get(subs, name), {:notify, :empty})
            loop(subs, [])
          [head | rest] ->
            notify(:pop, subs, name, head)
            loop(subs, rest)
        end
      {:get, name} ->
        send(Map.get(subs, name), {:notify, :get, stack})
        loop(subs, stack)
      :stop ->
        :ok
      _any ->
        loop(subs, stack)
    end
  end

  defp notify(action, subs, name, item) do
    for {_name, pid} <- subs, do: send(pid, {:notify, action, name, item})
  end
end

defmodule BenchB do
  def reset_stack do
    case :global.whereis_name(:stack) do
      :undefined -> :ok
      pid -> :global.unregister_name(:stack); send(pid, :stop)
    end
    pid = spawn(BenchStack, :loop, [%{}, []])
    :yes = :global.register_name(:stack, pid)
    :ok
  end

  def spawn_subscribers(n, rounds, report_to) do
    for _ <- 1..n, do: spawn(BenchSubscriber, :count, [report_to, rounds])
  end

  # Returns %{rss_bytes: delta of this OS process's VmRSS, vm_bytes: delta of
  # :erlang.memory(:total), spawn_us: time until all n run and wait}. The pids are not kept
  # in a list while measuring (that list would be counted); they are found again by their
  # initial call afterwards and killed.
  def idle_procs(n) do
    :erlang.garbage_collect()
    {rss0, vm0} = {rss(), :erlang.memory(:total)}
    t0 = :erlang.monotonic_time()
    spawn_idle(n)
    wait_run_queue_empty()
    spawn_us = :erlang.convert_time_unit(:erlang.monotonic_time() - t0, :native, :microsecond)
    {rss1, vm1} = {rss(), :erlang.memory(:total)}

    for p <- :erlang.processes(),
        Process.info(p, :initial_call) == {:initial_call, {BenchIdle, :wait, 0}},
        do: Process.exit(p, :kill)

    %{rss_bytes: rss1 - rss0, vm_bytes: vm1 - vm0, spawn_us: spawn_us}
  end

  defp spawn_idle(0), do: :ok

  defp spawn_idle(n) do
    spawn(BenchIdle, :wait, [])
    spawn_idle(n - 1)
  end

  # A spawned process gets its heap at spawn, but wait until every one has run into its
  # receive, so that what is measured is n processes idle in receive.
  defp wait_run_queue_empty do
    if :erlang.statistics(:total_run_queue_lengths_all) > 0 do
      Process.sleep(1)
      wait_run_queue_empty()
    end
  end

  defp rss do
    status = File.read!("/proc/#{:os.getpid()}/status")
    [_, kb] = Regex.run(~r/VmRSS:\s+(\d+) kB/, status)
    String.to_integer(kb) * 1024
  end
end

defmodule BenchServer do
  # For (f): the reply a gen_server sends, with the plain {pid, ref} `from` of the contract.
  def loop do
    receive do
      {:"$gen_call", {from, tag}, {:echo, seq}} ->
        send(from, {tag, {:echo, seq}})
        loop()
      :stop ->
        :ok
      _other ->
        loop()
    end
  end
end

defmodule BenchSubscriber do
  # For (g): a tutorial client's mailbox, reduced to counting the notifications it receives.
  def count(report_to, 0), do: send(report_to, {:sub_done, self()})

  def count(report_to, left) do
    receive do
      {:notify, :push, _name, _item} -> count(report_to, left - 1)
    end
  end
end

defmodule BenchIdle do
  # For (h): the cheapest useful process, one that waits in receive.
  def wait do
    receive do
      :stop -> :ok
    end
  end
end

Process.register(spawn(&BenchEcho.loop/0), :bench_echo)
Process.register(spawn(&BenchServer.loop/0), :bench_server)
Process.register(spawn(&BenchSink.idle/0), :bench_sink)
BenchB.reset_stack()
IO.puts("#{node()} ready")
# Bounded lifetime: node A stops us with :init.stop/0; this is only a safety net.
Process.sleep(String.to_integer(System.get_env("B_MAX_LIFETIME_MS", "900000")))
IO.puts("#{node()} max lifetime reached, exiting")
