#!/usr/bin/env escript
%% Golden External Term Format vectors from the installed OTP, for crates/etf/tests/golden.rs.
%% Output, one vector per line, tab-separated:
%%   vec   <name>  <hex of term_to_binary(T)>  <io_lib ~p rendering, one line>
%%   sort  <name>  <hex of term_to_binary(L)>  <hex of term_to_binary(lists:sort(L))>
%% Run: escript scripts/golden_etf.erl
-mode(compile).

main(_) ->
    io:setopts([{encoding, unicode}]),
    [vec(N, T) || {N, T} <- vectors()],
    [sort(N, L) || {N, L} <- sorts()],
    ok.

hex(B) -> binary:encode_hex(B).

one_line(T) -> lists:flatten(io_lib_pretty:print(T, [{column, 1}, {line_length, 100000000}, {depth, -1}, {encoding, unicode}])).  % ~tp on one line

vec(Name, T) ->
    io:format("vec\t~s\t~s\t~ts~n", [Name, hex(term_to_binary(T)), one_line(T)]).

sort(Name, L) ->
    io:format("sort\t~s\t~s\t~s~n", [Name, hex(term_to_binary(L)), hex(term_to_binary(lists:sort(L)))]).

%% A pid/ref/port of another node, built from its external format.
atom_ext(A) -> B = atom_to_binary(A, utf8), <<119, (byte_size(B)), B/binary>>.
rpid(Node, Id, Serial, Creation) ->
    binary_to_term(<<131, 88, (atom_ext(Node))/binary, Id:32, Serial:32, Creation:32>>).
rref(Node, Creation, Words) ->
    binary_to_term(<<131, 90, (length(Words)):16, (atom_ext(Node))/binary, Creation:32,
                     (<< <<W:32>> || W <- Words >>)/binary>>).
rport(Node, Id, Creation) ->
    binary_to_term(<<131, 89, (atom_ext(Node))/binary, Id:32, Creation:32>>).
rport4(Node, Id, Creation) ->
    binary_to_term(<<131, 120, (atom_ext(Node))/binary, Id:64, Creation:32>>).

vectors() ->
    Pid = self(),
    Ref = make_ref(),
    Port = hd(erlang:ports()),
    RPid = rpid('alice@host', 91, 0, 1700000000),
    Y = 42,
    LocalFun = fun(X) -> X + Y end,
    BigList = lists:seq(1, 300),
    Map40 = maps:from_list([{K, K * 2} || K <- lists:seq(1, 40)]),
    GenCall = {'$gen_call', {RPid, rref('alice@host', 1700000000, [123456, 789012, 345678])},
               {put, key, list_to_binary(lists:duplicate(200, $x)), [1, 2, 3, a, <<"b">>],
                #{name => <<"alice">>, count => 17, tags => [x, y]}}},
    [{"int_0", 0}, {"int_255", 255}, {"int_256", 256}, {"int_m1", -1},
     {"int_2p27", 1 bsl 27}, {"int_i32max", 2147483647}, {"int_i32min", -2147483648},
     {"int_2p31", 2147483648}, {"int_m2p31m1", -2147483649},
     {"int_i64max", 9223372036854775807}, {"int_i64min", -9223372036854775808},
     {"int_2p63", 1 bsl 63}, {"int_m2p63m1", -(1 bsl 63) - 1},
     {"int_2p64", 1 bsl 64}, {"int_2p2000", 1 bsl 2000}, {"int_m2p2000", -(1 bsl 2000)},
     {"int_2p2040", 1 bsl 2040}, {"int_2p3000m1", (1 bsl 3000) - 1},
     {"float_0", 0.0}, {"float_neg0", binary_to_term(<<131, 70, 128, 0, 0, 0, 0, 0, 0, 0>>)},
     {"float_1_5", 1.5}, {"float_1e300", 1.0e300}, {"float_5em324", 5.0e-324},
     {"float_m3_25", -3.25}, {"float_0_1", 0.1}, {"float_1e20", 1.0e20}, {"float_123456789_0", 123456789.0},
     {"atom_ok", ok}, {"atom_empty", ''}, {"atom_utf8", 'héllo_wörld_日本'},
     {"atom_quoted", 'hello world'}, {"atom_255", list_to_atom(lists:duplicate(255, $a))},
     {"atom_255_utf8", list_to_atom(lists:duplicate(255, 16#65E5))},
     {"atom_elixir_mod", 'Elixir.Foo.Bar'}, {"atom_true", true}, {"atom_nil", nil},
     {"tuple_empty", {}}, {"tuple_3", {a, 1, <<"x">>}}, {"tuple_300", list_to_tuple(BigList)},
     {"nil", []}, {"list_proper", [a, 1, 2.5, <<"b">>]}, {"list_improper", [a, b | c]},
     {"list_improper_int", [1 | 2]}, {"list_nested", [[1], [[2]], []]},
     {"string_abc", "abc"}, {"string_ints", [1, 2, 3]}, {"string_256", [256]},
     {"string_65535", lists:duplicate(65535, $a)}, {"string_65536", lists:duplicate(65536, $a)},
     {"list_300", BigList}, {"string_with_neg", [1, -1]},
     {"bin_empty", <<>>}, {"bin_hello", <<"hello">>}, {"bin_utf8", <<"héllo"/utf8>>},
     {"bin_bytes", <<0, 1, 2, 255>>}, {"bin_large", binary:copy(<<"0123456789">>, 7000)},
     {"bits_3", <<5:3>>}, {"bits_13", <<1, 3:5>>}, {"bits_1", <<1:1>>},
     {"map_empty", #{}}, {"map_atoms", #{a => 1, b => 2}},
     {"map_mixed", #{1 => int, 1.0 => float, a => atom, "s" => str, <<"b">> => bin,
                     {t} => tuple, [l] => list, #{} => map, -5 => neg, 1 bsl 70 => big}},
     {"map_nested", #{outer => #{inner => [#{x => 1}]}, <<"k">> => {#{}}}},
     {"map_40", Map40},
     {"pid_self", Pid}, {"ref_self", Ref}, {"port_self", Port},
     {"pid_remote", RPid}, {"pid_remote_big", rpid('bob@example.com', 16#7FFF, 8191, 3)},
     {"ref_remote_1", rref('alice@host', 5, [1])}, {"ref_remote_5", rref('alice@host', 5, [1, 2, 3, 4, 5])},
     {"port_remote", rport('alice@host', 77, 9)},
     {"port_v4", rport4('alice@host', 1 bsl 40, 9)},
     {"export_fun", fun lists:map/2}, {"export_fun_utf8", fun 'Elixir.Enum':map/2},
     {"local_fun", LocalFun}, {"local_fun_noenv", fun() -> ok end},
     {"push", {push, <<"alice">>, <<"item-123">>}},
     {"gen_call", GenCall},
     {"deep_mix", {[{a, [1, 2 | 3]}, #{k => <<1:2>>}], -1.0e-10, 'EXIT', [], "", <<>>}},
     {"keyword", [{a, 1}, {b, <<"two">>}]},
     {"struct", #{'__struct__' => 'Elixir.Client', name => <<"alice">>, pid => RPid}}].

sorts() ->
    N = 'n@h', M = 'm@h', Z = 'z@a',
    [{"mixed", [<<"bin">>, [a], [], #{a => 1}, {1, 2}, {1}, rpid(N, 1, 0, 1), hd(erlang:ports()),
                fun lists:map/2, make_ref(), zeta, alpha, 1.5, 1, -3, 1 bsl 80, -(1 bsl 80), 2.0e30,
                <<1:3>>, <<0>>, <<>>, [a | b], "abc", {2}, #{}, #{b => 1, a => 2}, #{a => 3}]},
     {"numbers", [3, 2.5, -1, 1 bsl 64, -(1 bsl 64), 1.0e19, -1.0e19, 0, 1.0e300, 2, 2.5e-5]},
     {"pids", [rpid(N, 1, 0, 1), rpid(N, 0, 1, 1), rpid(M, 2, 0, 1), rpid(N, 1, 0, 0),
               rpid(N, 2, 0, 0), rpid(Z, 0, 0, 5), rpid(N, 0, 2, 0), rpid(M, 0, 0, 9),
               rpid(N, 1, 1, 2), rpid(N, 100, 0, 3), rpid(M, 100, 7, 1)]},
     {"refs", [rref(N, 1, [1, 2, 3]), rref(N, 1, [3, 2, 1]), rref(M, 1, [1, 2, 3]),
               rref(N, 2, [1, 2, 3]), rref(N, 1, [5]), rref(N, 0, [0, 0, 9]), rref(Z, 0, [1]),
               rref(N, 1, [1, 2, 3, 4]), rref(N, 1, [9, 9]), rref(M, 7, [1, 1, 1])]},
     {"ports", [rport(N, 5, 1), rport(N, 4, 2), rport(M, 9, 0), rport(N, 5, 0), rport(Z, 1, 1),
                rport4(N, 1 bsl 40, 1)]},
     {"lists", [[1, 2], [1], [1 | 2], [1, 2 | 3], [2], [1, a], [1 | a], "ab", [97, 98, 99]]},
     {"bits", [<<1:1>>, <<1>>, <<0:1>>, <<128>>, <<128, 1:1>>, <<>>, <<255:8, 0:3>>, <<2:2>>]}].
