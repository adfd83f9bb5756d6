"""Replies WRITTEN BY HAND for lesson 03, in the exact shape a teacher's reply takes.

No model wrote these. The released Alpaca 52K already passed every filter, so real replies replayed from
it cannot show the filters at work; these were written by the course's authors so that each block breaks
one rule (or passes them all), and they are labelled wherever they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

LABEL = "written by hand for lesson 03 to show each filter at work (no model wrote it)"


@dataclass(frozen=True)
class HandwrittenReply:
    """A reply as the API returns it (text and finish_reason) for a request that ended on ``first_number``."""

    text: str
    finish_reason: str
    first_number: int = 4
    label: str = LABEL


_LONG = ("Read the following account of the early history of the bicycle and then explain, in your own words, "
         "which single invention did the most to turn the bicycle from a toy for wealthy young men into a practical "
         "means of transport for ordinary people: the first machines of the 1810s had no pedals at all and were "
         "pushed along by the rider's feet; in the 1860s French makers fixed pedals and cranks to the front wheel, "
         "which made the machine faster but also heavier and very uncomfortable on cobbled streets; the high-wheeled "
         "ordinary of the 1870s gave more speed for each turn of the pedals but threw its riders over the handlebars "
         "at the smallest obstacle; finally the safety bicycle of the 1880s brought a chain drive to the rear wheel, "
         "two wheels of equal size and, soon afterwards, air-filled rubber tyres, and within ten years it was being "
         "made in large numbers in several countries and sold at prices that clerks and factory workers could afford.")

ENGLISH_REPLY = HandwrittenReply(
    " Suggest three ways to reduce food waste at home.\n4. Input:\n<noinput>\n4. Output:\n"
    "1. Plan the week's meals before shopping. 2. Store fruit and vegetables properly. 3. Freeze leftovers.\n###\n"
    "5. Instruction: Name a color.\n5. Input:\n<noinput>\n5. Output:\nBlue.\n###\n"
    f"6. Instruction: {_LONG}\n6. Input:\n<noinput>\n6. Output:\nThe chain-driven safety bicycle.\n###\n"
    "7. Instruction: Describe the image below in one sentence.\n7. Input:\n<noinput>\n7. Output:\n"
    "A cat asleep on a red sofa.\n###\n"
    "8. Instruction: Write a program that prints the first ten prime numbers.\n8. Input:\n<noinput>\n8. Output:\n"
    "for n in [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]: print(n)\n###\n"
    '9. Instruction: "Carpe diem" - explain what this phrase means and where it comes from.\n9. Input:\n<noinput>\n'
    "9. Output:\nIt is Latin for 'seize the day', from a poem by Horace.\n###\n"
    "10. Instruction: ¿Cuál es la capital de Francia? Answer the question in English.\n10. Input:\n<noinput>\n"
    "10. Output:\nThe capital of France is Paris.\n###\n"
    "11. Instruction: Brainstorm a list of possible New Year's resolutions for a student.\n11. Input:\n<noinput>\n"
    "11. Output:\n- Read one book a month\n- Sleep before midnight\n- Learn to cook five dishes\n###\n"
    "13. Instruction: Convert the temperature from Celsius to Fahrenheit.\n13. Input:\n25 degrees Celsius\n"
    "13. Output:\n77 degrees Fahrenheit\n###\n"
    "13. Instruction: Classify the sentiment of the following review as positive or negative.\n13. Input:\n"
    "The battery died after two days and support never answered my emails.\n###\n"
    "14. Instruction: Give two reasons why the sky looks blue on a clear day.\n14. Input:\n<noinput>\n14. Output:\n"
    "1. Sunlight is scattered by the molecules of the air, and blue light",
    finish_reason="length",
)

CHINESE_REPLY = HandwrittenReply(
    " 为一家新开的咖啡店想三条宣传标语。\n4. 输入:\n<无输入>\n4. 输出:\n"
    "1. 每一杯，都是清晨的第一缕阳光。2. 慢下来，喝一杯好咖啡。3. 街角的温暖，等你来。\n###\n"
    "5. 指令: 请给出下面这个词语的同义词。\n5. 输入:\n美丽\n5. 输出:\n漂亮，秀丽，好看\n###\n"
    "6. 指令: 根据这张图片写一段简短的描述。\n6. 输入:\n<无输入>\n6. 输出:\n图中是一片金黄的麦田。\n###\n"
    "7. 指令: 翻译。\n7. 输入:\nGood morning\n7. 输出:\n早上好\n###\n"
    "8. 指令: “知足常乐”是什么意思？请用一句话解释。\n8. 输入:\n<无输入>\n8. 输出:\n知道满足就会常常感到快乐。\n###\n"
    "9. 指令：用三句话介绍长城的历史。\n9. 输入：\n<无输入>\n9. 输出：\n"
    "长城始建于春秋战国时期。秦朝把各国的城墙连成一体。今天所见的大部分城墙修建于明朝。\n###\n",
    finish_reason="stop",
)
