WASHINGTON (CNN) -- White House press secretary Tony Snow, who is undergoing treatment for cancer, will step down from his post September 14 and be replaced by deputy press secretary Dana Perino, the White House announced Friday.

White House press secretary Tony Snow will step down from his post on September 14.

President Bush told reporters Friday that he will "sadly accept" Snow's resignation.

Flanked by Snow and Perino in the White House press room, the president spoke warmly of his departing press secretary.

"It's been a joy to watch him spar with you," Bush told reporters.  Watch the announcement about Snow leaving »

Bush said he was certain of two things in regard to Snow.

"He'll battle cancer and win," Bush said, "and he'll be a solid contributor to society."

Turning to Snow, the president then said: "I love you, and I wish you all the best."

Snow, speaking after Bush at the start of the daily White House news conference, said he was leaving to earn more money. He took a big pay cut, he said, when he left his previous jobs as anchor and political analyst for Fox News.

According to The Washington Post, Snow makes $168,000 as the White House spokesman.

His family took out a loan when he started the job, "and that loan is now gone."

"This job has really been a dream for me, a blast. I've had an enormous amount of fun and satisfaction," Snow said.

He said he would continue to speak out on issues, and would do "some radio, some TV, but I don't anticipate full-time anchor duties."

Snow said he's received great satisfaction from talking to people about his illness.

Snow's cancer was diagnosed for the first time in February 2005. His colon was removed, and after six months of treatment, doctors said the cancer was in remission.

Perino announced March 27 that Snow's cancer had recurred, and that doctors had removed a growth from his abdomen the day before.

Sources told CNN two weeks ago that Snow was planning to leave his job, possibly as early as September.

Bush tapped Snow to replace Scott McClellan in April 2006. Snow had been an anchor for "Fox News Sunday" and a political analyst for the Fox News Channel, which he joined in 1996. He also hosted "The Tony Snow Show" on Fox News Radio.

On Thursday, Snow told CNN his health is improving, citing two medical tests this month that found the cancer has not spread.

"The tumors are stable -- they are not growing," Snow said of the results from an MRI and a CAT scan. "And there are no new growths. The health is good."

The press secretary, whose hair has turned gray during chemotherapy treatment, said his black hair is expected to grow back in about a month.

"I'm also putting on weight again," he said after returning from a 10-day vacation. "I actually feel very good about" the health situation.

Snow said on Friday he was to see his oncologist, and they will decide on some minor forms of chemotherapy to start as maintenance treatment. E-mail to a friend

@highlight

President Bush says Tony Snow "will battle cancer and win"  Job of press secretary "has been a dream for me," Snow says  Snow leaving on September 14, will be succeeded by Dana Perino