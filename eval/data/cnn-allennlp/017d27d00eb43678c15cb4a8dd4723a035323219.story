WASHINGTON (CNN) -- As he awaits a crucial progress report on Iraq, President Bush will try to put a twist on comparisons of the war to Vietnam by invoking the historical lessons of that conflict to argue against pulling out.

President Bush pauses Tuesday during a news conference at the  North American Leaders summit in Canada.

On Wednesday in Kansas City, Missouri, Bush will tell members of the Veterans of Foreign Wars that "then, as now, people argued that the real problem was America's presence and that if we would just withdraw, the killing would end," according to speech excerpts released Tuesday by the White House.

"Three decades later, there is a legitimate debate about how we got into the Vietnam War and how we left," Bush will say.

"Whatever your position in that debate, one unmistakable legacy of Vietnam is that the price of America's withdrawal was paid by millions of innocent citizens, whose agonies would add to our vocabulary new terms like 'boat people,' 're-education camps' and 'killing fields,' " the president will say.

The president will also make the argument that withdrawing from Vietnam emboldened today's terrorists by compromising U.S. credibility, citing a quote from al Qaeda leader Osama bin Laden that the American people would rise against the Iraq war the same way they rose against the war in Vietnam, according to the excerpts.

"Here at home, some can argue our withdrawal from Vietnam carried no price to American credibility, but the terrorists see things differently," Bush will say.

On Tuesday, Democratic Senate Majority Leader Harry Reid said, "President Bush's attempt to compare the war in Iraq to past military conflicts in East Asia ignores the fundamental difference between the two. Our nation was misled by the Bush Administration in an effort to gain support for the invasion of Iraq under false pretenses, leading to one of the worst foreign policy blunders in our history.

"While the President continues to stay-the-course with his failed strategy in Iraq, paid for by the taxpayers, American lives are being lost and there is still no political solution within the Iraqi government. It is time to change direction in Iraq, and Congress will again work to do so in the fall."

The White House is billing the speech, along with another address next week to the American Legion, as an effort to "provide broader context" for the debate over the upcoming Iraq progress report by Gen. David Petraeus, the top U.S. military commander, and Ryan Crocker, the U.S. ambassador in Baghdad.

President Bush has frequently asked lawmakers -- and the American people -- to withhold judgment on his troop "surge" in Iraq until the report comes out in September.  Watch Bush criticize the Iraqi government »

It is being closely watched on Capitol Hill, particularly by Republicans nervous about the political fallout from an increasingly unpopular war.

Earlier this month, Defense Secretary Robert Gates said he would wait for the report before deciding when a drawdown of the 160,000 U.S. troops in Iraq might begin.

Bush's speeches Wednesday and next week are the latest in a series of attempts by the White House to try to reframe the debate over Iraq, as public support for the war continues to sag.

A recent CNN/Opinion Research Corporation poll found that almost two-thirds of Americans -- 64 percent -- now oppose the Iraq war, and 72 percent say that even if Petraeus reports progress, it won't change their opinion.

The poll also found a great deal of skepticism about the report; 53 percent said they do not trust Petraeus to give an accurate assessment of the situation in Iraq.

In addition to his analogy to Vietnam, Bush in Wednesday's speech will invoke other historical comparisons from Asia, including the U.S. defeat and occupation of Japan after World War II and the Korean War in the 1950s, according to the excerpts.

"In the aftermath of Japan's surrender, many thought it naive to help the Japanese transform themselves into a democracy. Then, as now, the critics argued that some people were simply not fit for freedom," Bush will say. "Today, in defiance of the critics, Japan ... stands as one of the world's great free societies."

Speaking about the Korean War, Bush will note that at the time "critics argued that the war was futile, that we never should have sent our troops in, or that America's intervention was divisive here at home."

"While it is true that the Korean War had its share of challenges, America never broke its word," Bush will say. "Without America's intervention during the war, and our willingness to stick with the South Koreans after the war, millions of South Koreans would now be living under a brutal and repressive regime." E-mail to a friend

@highlight

President Bush to address the Veterans of Foreign Wars on Wednesday

@highlight

Bush to say that withdrawing from Vietnam emboldened today's terrorists

@highlight

Speech will be latest White House attempt to try to reframe the debate over Iraq