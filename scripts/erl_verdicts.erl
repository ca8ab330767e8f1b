#!/usr/bin/env escript
%% binary_to_term/2's verdict on each input, for crates/etf/tests/erl_verdicts.rs.
%% Input: a file of hex-encoded binaries, one per line. Output, one line per input, in order:
%%   ok      <bytes used>  <hex of term_to_binary(T)>
%%   badarg      (or badarg, a tab and the exception, when it was not error:badarg)
%% Run: escript scripts/erl_verdicts.erl FILE
-mode(compile).

main([File]) ->
    {ok, Text} = file:read_file(File),
    Lines = binary:split(Text, <<"\n">>, [global, trim_all]),
    [verdict(binary:decode_hex(L)) || L <- Lines],
    ok.

verdict(B) ->
    try binary_to_term(B, [used]) of
        {T, Used} -> io:format("ok\t~b\t~s~n", [Used, binary:encode_hex(term_to_binary(T))])
    catch
        error:badarg -> io:format("badarg~n");
        %% Anything else is a refusal too, named, so one odd input cannot end the run.
        Class:Reason -> io:format("badarg\t~p:~0p~n", [Class, Reason])
    end.
