BAGHDAD, Iraq (CNN) -- The women are too afraid and ashamed to show their faces or have their real names used. They have been driven to sell their bodies to put food on the table for their children -- for as little as $8 a day.

Suha, 37, is a mother of three. She says her husband thinks she is cleaning houses when she leaves home.

"People shouldn't criticize women, or talk badly about them," says 37-year-old Suha as she adjusts the light colored scarf she wears these days to avoid extremists who insist women cover themselves. "They all say we have lost our way, but they never ask why we had to take this path."

A mother of three, she wears light makeup, a gold pendant of Iraq around her neck, and an unexpected air of elegance about her.

"I don't have money to take my kid to the doctor. I have to do anything that I can to preserve my child, because I am a mother," she says, explaining why she prostitutes herself.

Anger and frustration rise in her voice as she speaks.

"No matter what else I may be, no matter how off the path I may be, I am a mother!"  Watch a woman describe turning to prostitution to "save my child" »

Her clasped hands clench and unclench nervously. Suha's husband thinks that she is cleaning houses when she goes away.

So does Karima's family.

"At the start I was cleaning homes, but I wasn't making much. No matter how hard I worked it just wasn't enough," she says.

Karima, clad in all black, adds, "My husband died of lung cancer nine months ago and left me with nothing."

She has five children, ages 8 to 17. Her eldest son could work, but she's too afraid for his life to let him go into the streets, preferring to sacrifice herself than risk her child.

She was solicited the first time when she was cleaning an office.

"They took advantage of me," she says softly. "At first I rejected it, but then I realized I have to do it."

Both Suha and Karima have clients that call them a couple times a week. Other women resort to trips to the market to find potential clients. Or they flag down vehicles.

Prostitution is a choice more and more Iraqi women are making just to survive.

"It's increasing," Suha says. "I found this 'thing' through my friend, and I have another friend in the same predicament as mine. Because of the circumstance, she is forced to do such things."

Violence, increased cost of living, and lack of any sort of government aid leave women like these with few other options, according to humanitarian workers.

"At this point there is a population of women who have to sell their bodies in order to keep their children alive," says Yanar Mohammed, head and founder of the Organization for Women's Freedom in Iraq. "It's a taboo that no one is speaking about."

She adds, "There is a huge population of women who were the victims of war who had to sell their bodies, their souls and they lost it all. It crushes us to see them, but we have to work on it and that's why we started our team of women activists."

Her team pounds the streets of Baghdad looking for these victims often too humiliated to come forward.

"Most of the women that we find at hospitals [who] have tried to commit suicide" have been involved in prostitution, said Basma Rahim, a member of Mohammed's team.

The team's aim is to compile information on specific cases and present it to Iraq's political parties -- to have them, as Mohammed puts it, "come tell us what [they] are ... going to do about this."

Rahim tells the heartbreaking story of one woman they found who lives in a room with three of her children: "She has sex while her three children are in the room, but she makes them stand in separate corners."

According to Rahim and Mohammed, most of the women they encounter say they are driven to prostitution by a desperate desire for survival in the dangerously violent and unforgiving circumstances in Iraq.

"They took this path but they are not pleased," Rahim says.

Karima says when she sees her children with food on the table, she is able to convince herself that it's worth it. "Everything is for the children. They are the beauty in life and, without them, we cannot live."

But she says, "I would never allow my daughter to do this. I would rather marry her off at 13 than have her go through this."

Karima's last happy memory is of her late husband, when they were a family and able to shoulder the hardships of life in today's Iraq together.

Suha says as a young girl she dreamed of being a doctor, with her mom boasting about her potential in that career. Life couldn't have taken her further from that dream.

"It's not like we were born into this, nor was it ever in my blood," she says.

What she does for her family to survive now eats away at her. "I lay on my pillow and my brain is spinning, and it all comes back to me as if I am watching a movie." E-mail to a friend

@highlight

Aid workers: Violence, increased cost of living drive women to prostitution

@highlight

Group is working to raise awareness of the problem with Iraq's political leaders

@highlight

Two Iraqi mothers tell CNN they turned to prostitution to help feed their children

@highlight

"Everything is for the children," one woman says