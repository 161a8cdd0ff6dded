from shared.workers_ai import SSEDecoder


def test_decoder_reassembles_events_split_across_chunks():
    decoder = SSEDecoder()
    stream = b'data: {"response":"Hel"}\n\ndata: {"response":"lo","p":"abc"}\n\ndata: {"response":"","usage":{"prompt_tokens":4,"completion_tokens":2}}\n\ndata: [DONE]\n\n'
    events = []
    for i in range(0, len(stream), 7):
        events += decoder.feed(stream[i:i + 7])
    events += decoder.close()

    assert [e.text for e in events if e.text] == ["Hel", "lo"]
    assert [e.usage.total_tokens for e in events if e.usage] == [6]
    assert events[-1].done


def test_decoder_handles_multibyte_text_split_inside_a_character():
    payload = 'data: {"response":"héllo"}\n\n'.encode()
    decoder = SSEDecoder()
    events = decoder.feed(payload[:20]) + decoder.feed(payload[20:])

    assert [e.text for e in events] == ["héllo"]


def test_a_stream_event_nested_thousands_deep_or_not_an_object_is_skipped_not_a_crash():
    decoder = SSEDecoder()
    deep = b"[" * 5_000 + b"]" * 5_000
    events = decoder.feed(b"data: " + deep + b"\n\ndata: [1, 2]\n\ndata: {\"response\": \"ok\"}\n\n")

    assert [event.text for event in events] == ["ok"]
