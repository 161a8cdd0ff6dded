from inference.stop_sequences import StopCutter, cut_at_stop


def test_an_answer_is_cut_before_its_first_stop_sequence():
    assert cut_at_stop("one two. three END four", ["END", "."]) == ("one two", True)
    assert cut_at_stop("no stop here", ["END"]) == ("no stop here", False)
    assert cut_at_stop("anything", None) == ("anything", False)


def test_a_stop_sequence_split_across_pieces_is_found_and_nothing_of_it_is_sent():
    cutter = StopCutter(["STOP"])
    sent = [cutter.feed(piece) for piece in ("go ", "now S", "T", "OP and more", " later")]

    assert "".join(sent) == "go now " and cutter.stopped
    assert cutter.close() == ""


def test_text_held_back_as_a_possible_start_is_sent_when_it_starts_none():
    cutter = StopCutter(["STOP"])
    sent = [cutter.feed("a ST"), cutter.feed("ar"), cutter.close()]

    assert sent == ["a ", "STar", ""] and not cutter.stopped
    held = StopCutter(["STOP"])
    assert held.feed("end ST") == "end " and held.close() == "ST"
